/// Convolution layers over `[N, C, H, W]` with PyTorch's weight layouts and names.
import Tensors

/// A 2-D convolution (PyTorch's `nn.Conv2d` with square kernel, stride and zero padding).
///
/// Input `[N, inputChannels, H, W]`, output `[N, outputChannels, H', W']` with
/// `H' = (H + 2·padding − kernelSize) / stride + 1`. Parameters: `weight`
/// `[outputChannels, inputChannels, kernelSize, kernelSize]` and, when `hasBias`, `bias`
/// `[outputChannels]`.
///
/// The parameters start at zero: apply an `Initialization` or load weights before use.
public final class Conv2d: Layer {
  public let inputChannels: Int
  public let outputChannels: Int
  public let kernelSize: Int
  public let stride: Int
  public let padding: Int

  /// `[outputChannels, inputChannels, kernelSize, kernelSize]`.
  public let weight: Parameter
  /// `[outputChannels]`, or `nil` for a convolution without bias.
  public let bias: Parameter?

  public var isTraining = true

  public init(
    inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
    padding: Int = 0, hasBias: Bool = true
  ) {
    precondition(
      inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
      "Conv2d(\(inputChannels)→\(outputChannels), kernel \(kernelSize), stride \(stride), "
        + "padding \(padding)): sizes must be positive")
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    weight = Parameter(
      name: "weight",
      value: Tensor(shape: [outputChannels, inputChannels, kernelSize, kernelSize]))
    bias = hasBias ? Parameter(name: "bias", value: Tensor(shape: [outputChannels])) : nil
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    conv2d(input, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
  }

  public var directParameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
}

/// A 2-D transposed convolution (PyTorch's `nn.ConvTranspose2d`, square sizes).
///
/// Input `[N, inputChannels, H, W]`, output `[N, outputChannels, H', W']` with
/// `H' = (H − 1)·stride − 2·padding + kernelSize + outputPadding`. Parameters: `weight`
/// `[inputChannels, outputChannels, kernelSize, kernelSize]` (PyTorch's layout) and, when
/// `hasBias`, `bias` `[outputChannels]`.
///
/// The parameters start at zero: apply an `Initialization` or load weights before use.
public final class ConvTranspose2d: Layer {
  public let inputChannels: Int
  public let outputChannels: Int
  public let kernelSize: Int
  public let stride: Int
  public let padding: Int
  public let outputPadding: Int

  /// `[inputChannels, outputChannels, kernelSize, kernelSize]`.
  public let weight: Parameter
  /// `[outputChannels]`, or `nil`.
  public let bias: Parameter?

  public var isTraining = true

  public init(
    inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
    padding: Int = 0, outputPadding: Int = 0, hasBias: Bool = true
  ) {
    precondition(
      inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0
        && outputPadding >= 0 && outputPadding < stride,
      "ConvTranspose2d(\(inputChannels)→\(outputChannels), kernel \(kernelSize), stride "
        + "\(stride), padding \(padding), output padding \(outputPadding)): invalid sizes")
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    self.outputPadding = outputPadding
    weight = Parameter(
      name: "weight",
      value: Tensor(shape: [inputChannels, outputChannels, kernelSize, kernelSize]))
    bias = hasBias ? Parameter(name: "bias", value: Tensor(shape: [outputChannels])) : nil
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    convTranspose2d(
      input, weight: weight.value, bias: bias?.value, stride: stride, padding: padding,
      outputPadding: outputPadding)
  }

  public var directParameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
}
