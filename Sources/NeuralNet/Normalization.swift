/// Normalisation layers over `[N, C, H, W]`, named as PyTorch names their entries.
import Tensors

/// Instance normalisation (PyTorch's `nn.InstanceNorm2d` without running statistics): each
/// `(n, c)` plane of `[N, C, H, W]` is normalised by its own mean and biased variance
/// (epsilon 1e-5); with `affine`, then scaled by `weight` `[C]` (starting at 1) and shifted by
/// `bias` `[C]` (starting at 0). The same in training and evaluation.
public final class InstanceNorm2d: Layer {
  public let channels: Int
  public let epsilon: Float
  /// `[C]`, present when affine.
  public let weight: Parameter?
  /// `[C]`, present when affine.
  public let bias: Parameter?

  public var isTraining = true

  public init(channels: Int, affine: Bool = false, epsilon: Float = 1e-5) {
    precondition(channels > 0, "InstanceNorm2d channels must be positive, got \(channels)")
    self.channels = channels
    self.epsilon = epsilon
    weight =
      affine ? Parameter(name: "weight", value: Tensor(shape: [channels], repeating: 1)) : nil
    bias = affine ? Parameter(name: "bias", value: Tensor(shape: [channels])) : nil
  }

  /// Whether the layer has `weight` and `bias`.
  public var isAffine: Bool { weight != nil }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    instanceNorm2d(input, weight: weight?.value, bias: bias?.value, epsilon: epsilon)
  }

  public var directParameters: [Parameter] { [weight, bias].compactMap { $0 } }
}

/// Batch normalisation (PyTorch's `nn.BatchNorm2d`, affine, tracking running statistics).
///
/// Input and output `[N, C, H, W]`. Parameters `weight` `[C]` (starting at 1) and `bias` `[C]`
/// (starting at 0); buffers `running_mean` `[C]` (0), `running_var` `[C]` (1) and
/// `num_batches_tracked` `[]` (0). In training each channel is normalised by the batch's
/// statistics, the running averages move by `momentum` and the batch count grows by one; in
/// evaluation the running statistics normalise.
public final class BatchNorm2d: Layer {
  public let channels: Int
  public let momentum: Float
  public let epsilon: Float
  public let weight: Parameter
  public let bias: Parameter
  public let runningMean: Buffer
  public let runningVariance: Buffer
  public let batchesTracked: Buffer

  public var isTraining = true

  public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
    precondition(channels > 0, "BatchNorm2d channels must be positive, got \(channels)")
    self.channels = channels
    self.momentum = momentum
    self.epsilon = epsilon
    weight = Parameter(name: "weight", value: Tensor(shape: [channels], repeating: 1))
    bias = Parameter(name: "bias", value: Tensor(shape: [channels]))
    runningMean = Buffer(name: "running_mean", value: Tensor(shape: [channels]))
    runningVariance = Buffer(name: "running_var", value: Tensor(shape: [channels], repeating: 1))
    batchesTracked = Buffer(
      name: "num_batches_tracked", value: Tensor(shape: []), holdsInteger: true)
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    let output = batchNorm2d(
      input, weight: weight.value, bias: bias.value, runningMean: &runningMean.value,
      runningVariance: &runningVariance.value, momentum: momentum, epsilon: epsilon,
      training: isTraining)
    if isTraining {
      batchesTracked.value = Tensor(shape: [], scalars: [batchesTracked.value.scalar + 1])
    }
    return output
  }

  public var directParameters: [Parameter] { [weight, bias] }
  public var directBuffers: [Buffer] { [runningMean, runningVariance, batchesTracked] }
}
