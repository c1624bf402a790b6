/// Trainable parameters and non-trainable buffers of layers.
import Tensors

/// A trainable tensor of a layer (a convolution's `weight` or `bias`, a norm's `weight`).
///
/// The value is a leaf of the gradient graph: after `loss.backward()` its gradient is in
/// `gradient`. An optimiser overwrites the elements in place, so the leaf (and any copy of the
/// tensor held elsewhere) stays the same object across steps.
public final class Parameter {
  /// The name inside its layer, as PyTorch's `state_dict` spells it (`weight`, `bias`).
  public let name: String

  /// The current values; always a gradient leaf.
  public private(set) var value: Tensor

  /// Creates a parameter holding a copy of `initialValue`'s elements as a new gradient leaf.
  public init(name: String, value initialValue: Tensor) {
    self.name = name
    value = initialValue.detached().requiringGradient()
  }

  /// The shape of the value.
  public var shape: [Int] { value.shape }

  /// The number of elements.
  public var count: Int { value.count }

  /// The gradient accumulated by `backward()` since it was last cleared, shaped like `value`.
  public var gradient: Tensor? {
    get { value.gradient }
    set { value.gradient = newValue }
  }

  /// Overwrites the values in place (the gradient leaf is kept); the shape must match.
  public func assign(_ newValue: Tensor) {
    precondition(
      newValue.shape == value.shape,
      "parameter \(name): new shape \(newValue.shape) differs from \(value.shape)")
    newValue.withUnsafeBufferPointer { source in
      value.withUnsafeMutableBufferPointer { target in
        _ = target.update(fromContentsOf: source)
      }
    }
  }

  /// Calls `body` with the values for writing in place (the gradient graph is not told).
  public func updateInPlace<Result>(
    _ body: (UnsafeMutableBufferPointer<Float>) throws -> Result
  ) rethrows -> Result {
    try value.withUnsafeMutableBufferPointer(body)
  }
}

/// A tensor of a layer that is saved with it but not trained (a batch norm's running
/// statistics), as PyTorch's registered buffers.
public final class Buffer {
  /// The name inside its layer, as PyTorch's `state_dict` spells it (`running_mean`).
  public let name: String

  /// The current values (never a gradient leaf).
  public var value: Tensor

  /// Whether PyTorch stores this buffer as an integer (`num_batches_tracked` is int64); the
  /// value is held as Float32 either way, exact up to 2^24.
  public let holdsInteger: Bool

  /// Creates a buffer.
  public init(name: String, value: Tensor, holdsInteger: Bool = false) {
    self.name = name
    self.value = value.detached()
    self.holdsInteger = holdsInteger
  }

  /// The shape of the value.
  public var shape: [Int] { value.shape }
}
