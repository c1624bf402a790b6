/// A dense Float32 tensor in row-major order, shaped `[N, C, H, W]` for images and
/// activations, or a lower rank for parameters (`[Cout, Cin, kH, kW]`, `[C]`) and losses (`[]`).
///
/// `Tensor` is a value: copying one shares its storage until either copy is written, and then
/// the written copy takes a private buffer (copy-on-write).
public struct Tensor: Sendable {
  /// The extent of each dimension, outermost first. An empty shape is a scalar.
  public let shape: [Int]

  /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
  public var scalars: [Float]

  /// Creates a tensor from its shape and its elements in row-major order.
  public init(shape: [Int], scalars: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    precondition(
      shape.reduce(1, *) == scalars.count,
      "shape \(shape) needs \(shape.reduce(1, *)) elements, got \(scalars.count)")
    self.shape = shape
    self.scalars = scalars
  }

  /// Creates a tensor of the given shape with every element equal to `value`.
  public init(shape: [Int], repeating value: Float = 0) {
    self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
  }

  /// The number of elements.
  public var count: Int { scalars.count }

  /// The number of dimensions.
  public var rank: Int { shape.count }
}
