/// Trainable parameters and non-trainable buffers of layers.
import Tensors

/// A trainable tensor of a layer (a convolution's `weight` or `bias`, a norm's `weight`).
///
/// The values are a leaf of the gradient graph: after `loss.backward()` the gradient is in
/// `gradient`. An optimiser overwrites the elements in place, so the leaf (and any copy of the
/// tensor held elsewhere) stays the same object across steps.
///
/// A parameter can be frozen (`requiresGradient = false`, PyTorch's `requires_grad_(False)`):
/// layers then read its values cut from the graph, so no gradient is computed for it while
/// gradients still flow through the layer to its input.
public final class Parameter {
  /// The name inside its layer, as PyTorch's `state_dict` spells it (`weight`, `bias`).
  public let name: String

  /// The values as a gradient leaf, whether or not the parameter is frozen.
  private var leaf: Tensor

  /// Whether operations on `value` record gradients for this parameter (true unless frozen).
  public var requiresGradient = true

  /// Creates a parameter holding a copy of `initialValue`'s elements as a new gradient leaf.
  public init(name: String, value initialValue: Tensor) {
    self.name = name
    leaf = initialValue.detached().requiringGradient()
  }

  /// The current values: the gradient leaf, or the same values cut from the graph while the
  /// parameter is frozen.
  public var value: Tensor { requiresGradient ? leaf : leaf.detached() }

  /// The shape of the value.
  public var shape: [Int] { leaf.shape }

  /// The number of elements.
  public var count: Int { leaf.count }

  /// The gradient accumulated by `backward()` since it was last cleared, shaped like `value`.
  public var gradient: Tensor? {
    get { leaf.gradient }
    set { leaf.gradient = newValue }
  }

  /// Overwrites the values in place (the gradient leaf is kept); the shape must match.
  public func assign(_ newValue: Tensor) {
    precondition(
      newValue.shape == value.shape,
      "parameter \(name): new shape \(newValue.shape) differs from \(leaf.shape)")
    newValue.withUnsafeBufferPointer { source in
      leaf.withUnsafeMutableBufferPointer { target in
        _ = target.update(fromContentsOf: source)
      }
    }
  }

  /// Calls `body` with the values for writing in place (the gradient graph is not told).
  public func updateInPlace<Result>(
    _ body: (UnsafeMutableBufferPointer<Float>) throws -> Result
  ) rethrows -> Result {
    try leaf.withUnsafeMutableBufferPointer(body)
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
