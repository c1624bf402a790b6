/// A dense Float32 tensor in row-major order, shaped `[N, C, H, W]` for images and
/// activations, or a lower rank for parameters (`[Cout, Cin, kH, kW]`, `[C]`) and losses (`[]`).
///
/// `Tensor` is a value: copying one shares its storage (64-byte aligned) until either copy is
/// written, and then the written copy takes a private buffer (copy-on-write).
///
/// A tensor may also carry a place in a gradient graph (see `Autograd.swift`): a leaf created
/// with `requiresGradient: true` collects `gradient` when `backward()` runs on a scalar computed
/// from it; every differentiable operation on such tensors records how to send gradients back.
public struct Tensor: Sendable {
  /// The extent of each dimension, outermost first. An empty shape is a scalar.
  public let shape: [Int]

  /// The elements, shared between copies until one of them writes.
  var storage: TensorStorage

  /// This tensor's place in a gradient graph, or `nil` when no gradient flows through it.
  var node: AutogradNode?

  /// Wraps existing storage (internal: the storage must hold `shape.reduce(1, *)` elements).
  init(shape: [Int], storage: TensorStorage, node: AutogradNode? = nil) {
    self.shape = shape
    self.storage = storage
    self.node = node
  }

  /// Creates a tensor whose elements `initialize` writes; it must write every element.
  init(shape: [Int], initializingWith initialize: (UnsafeMutableBufferPointer<Float>) -> Void) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    let storage = TensorStorage(count: shape.reduce(1, *))
    initialize(storage.buffer)
    self.init(shape: shape, storage: storage)
  }

  /// Creates a tensor from its shape and its elements in row-major order.
  ///
  /// With `requiresGradient`, the tensor is a leaf of the gradient graph: `backward()` on a
  /// scalar computed from it accumulates into its `gradient`.
  public init(shape: [Int], scalars: [Float], requiresGradient: Bool = false) {
    precondition(
      shape.reduce(1, *) == scalars.count,
      "shape \(shape) needs \(shape.reduce(1, *)) elements, got \(scalars.count)")
    self.init(shape: shape) { buffer in
      _ = buffer.initialize(fromContentsOf: scalars)
    }
    if requiresGradient { node = AutogradNode(leaf: ()) }
  }

  /// Creates a tensor of the given shape with every element equal to `value`.
  public init(shape: [Int], repeating value: Float = 0, requiresGradient: Bool = false) {
    self.init(shape: shape) { buffer in
      buffer.initialize(repeating: value)
    }
    if requiresGradient { node = AutogradNode(leaf: ()) }
  }

  /// Creates a scalar tensor (shape `[]`).
  public init(_ value: Float, requiresGradient: Bool = false) {
    self.init(shape: [], repeating: value, requiresGradient: requiresGradient)
  }

  /// A tensor of zeros.
  public static func zeros(shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }

  /// A tensor of ones.
  public static func ones(shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

  /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
  ///
  /// Setting them keeps the shape (the count must match) and the tensor's place in the gradient
  /// graph, so an optimiser may overwrite a parameter's values.
  public var scalars: [Float] {
    get { Array(storage.buffer) }
    set {
      precondition(
        newValue.count == count, "shape \(shape) needs \(count) elements, got \(newValue.count)")
      withUnsafeMutableBufferPointer { buffer in
        _ = buffer.update(fromContentsOf: newValue)
      }
    }
  }

  /// The only element of a one-element tensor, such as a loss.
  public var scalar: Float {
    precondition(count == 1, "scalar of a tensor with shape \(shape)")
    return storage.buffer[0]
  }

  /// The number of elements.
  public var count: Int { storage.count }

  /// The number of dimensions.
  public var rank: Int { shape.count }

  /// Calls `body` with the elements in row-major order.
  public func withUnsafeBufferPointer<Result>(
    _ body: (UnsafeBufferPointer<Float>) throws -> Result
  ) rethrows -> Result {
    try body(UnsafeBufferPointer(storage.buffer))
  }

  /// Calls `body` with writable elements, taking a private copy first if the storage is shared.
  ///
  /// Writing does not tell the gradient graph: use it on leaves (an optimiser step) or on
  /// tensors that need no gradient.
  public mutating func withUnsafeMutableBufferPointer<Result>(
    _ body: (UnsafeMutableBufferPointer<Float>) throws -> Result
  ) rethrows -> Result {
    if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    return try body(storage.buffer)
  }

  /// Whether the storage is referenced by this value only (so an operation may reuse it).
  mutating func hasUniqueStorage() -> Bool { isKnownUniquelyReferenced(&storage) }
}

extension Tensor: CustomStringConvertible {
  /// The shape and the first few elements.
  public var description: String {
    let shown = withUnsafeBufferPointer { Array($0.prefix(8)) }
    return "Tensor(shape: \(shape), scalars: \(shown)\(count > 8 ? "…" : ""))"
  }
}

/// The elements of a tensor, 64-byte aligned for vector loads; never resized.
final class TensorStorage: @unchecked Sendable {
  /// The element count (the allocation holds at least one element).
  let count: Int

  /// The elements.
  let base: UnsafeMutablePointer<Float>

  /// Allocates `count` uninitialised elements.
  init(count: Int) {
    self.count = count
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
    base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
  }

  deinit { base.deallocate() }

  /// The elements as a buffer.
  var buffer: UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: base, count: count)
  }

  /// A private copy of the elements.
  func copy() -> TensorStorage {
    let result = TensorStorage(count: count)
    result.base.update(from: base, count: count)
    return result
  }
}
