import Kernels

// Differentiable 2-D convolution and transposed convolution over `[N, C, H, W]` tensors,
// wrapping the raw-buffer kernels of `Kernels` (banded im2col plus sgemm).

extension Tensor {
  /// The element pointer, valid while `self` is alive (callers keep it alive around the use).
  fileprivate func withPointer<Result>(_ body: (UnsafePointer<Float>) -> Result) -> Result {
    withUnsafeBufferPointer { body($0.baseAddress!) }
  }
}

/// The three passes of one kind of convolution over raw buffers.
private protocol ConvolutionKernel {
  static func forward(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>)
  static func backwardInput(
    _ g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>)
  static func backwardWeight(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
    weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?)
}

extension Convolution: ConvolutionKernel {}
extension TransposedConvolution: ConvolutionKernel {}

/// Runs `kernel` forward and records its backward passes.
private func convolve<Kernel: ConvolutionKernel>(
  _ kernel: Kernel.Type, _ geometry: ConvolutionGeometry, input: Tensor, weight: Tensor,
  bias: Tensor?
) -> Tensor {
  let outputShape = [geometry.batch, geometry.outChannels, geometry.outHeight, geometry.outWidth]
  let output = input.withPointer { input in
    weight.withPointer { weight in
      Tensor(shape: outputShape) { output in
        if let bias {
          bias.withPointer { bias in
            Kernel.forward(
              geometry, input: input, weight: weight, bias: bias, output: output.baseAddress!)
          }
        } else {
          Kernel.forward(
            geometry, input: input, weight: weight, bias: nil, output: output.baseAddress!)
        }
      }
    }
  }

  let savedInput = input.detached()
  let savedWeight = weight.detached()
  let inputNeedsGradient = input.requiresGradient
  let parametersNeedGradient = weight.requiresGradient || (bias?.requiresGradient ?? false)
  let hasBias = bias != nil
  return output.recorded(from: [input, weight, bias ?? Tensor(0)]) { gradient in
    var inputGradient: Tensor?
    var weightGradient: Tensor?
    var biasGradient: Tensor?
    gradient.withPointer { outputGradient in
      if inputNeedsGradient {
        inputGradient = savedWeight.withPointer { weight in
          Tensor(shape: savedInput.shape) { target in
            Kernel.backwardInput(
              geometry, outputGradient: outputGradient, weight: weight,
              inputGradient: target.baseAddress!)
          }
        }
      }
      if parametersNeedGradient {
        var biasValues = Tensor(shape: [hasBias ? geometry.outChannels : 0])
        weightGradient = savedInput.withPointer { input in
          Tensor(shape: savedWeight.shape) { target in
            biasValues.withUnsafeMutableBufferPointer { biasTarget in
              Kernel.backwardWeight(
                geometry, input: input, outputGradient: outputGradient,
                weightGradient: target.baseAddress!,
                biasGradient: hasBias ? biasTarget.baseAddress! : nil)
            }
          }
        }
        biasGradient = hasBias ? biasValues : nil
      }
    }
    return [inputGradient, weightGradient, biasGradient]
  }
}

/// Checks the bias of a convolution with `outChannels` outputs.
private func checkBias(_ bias: Tensor?, outChannels: Int, _ name: String) {
  if let bias {
    precondition(
      bias.shape == [outChannels], "\(name) bias must be [\(outChannels)], got \(bias.shape)")
  }
}

/// 2-D convolution with zero padding (PyTorch's `conv2d`): input `[N, Cin, H, W]`, weight
/// `[Cout, Cin, kH, kW]`, optional bias `[Cout]`, output `[N, Cout, outH, outW]` with
/// `outH = (H + 2·padding − kH) / stride + 1`.
public func conv2d(
  _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0
) -> Tensor {
  precondition(input.rank == 4, "conv2d input must be [N, Cin, H, W], got \(input.shape)")
  precondition(weight.rank == 4, "conv2d weight must be [Cout, Cin, kH, kW], got \(weight.shape)")
  precondition(
    weight.shape[1] == input.shape[1],
    "conv2d weight \(weight.shape) expects \(weight.shape[1]) input channels, input is "
      + "\(input.shape)")
  checkBias(bias, outChannels: weight.shape[0], "conv2d")
  let geometry = ConvolutionGeometry(
    batch: input.shape[0], inChannels: input.shape[1], outChannels: weight.shape[0],
    height: input.shape[2], width: input.shape[3],
    kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
    strideY: stride, strideX: stride, paddingY: padding, paddingX: padding)
  return convolve(Convolution.self, geometry, input: input, weight: weight, bias: bias)
}

/// 2-D transposed convolution (PyTorch's `conv_transpose2d`): input `[N, Cin, H, W]`, weight
/// `[Cin, Cout, kH, kW]`, optional bias `[Cout]`, output `[N, Cout, outH, outW]` with
/// `outH = (H − 1)·stride − 2·padding + kH + outputPadding` (`outputPadding < stride`).
public func convTranspose2d(
  _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
  outputPadding: Int = 0
) -> Tensor {
  precondition(input.rank == 4, "convTranspose2d input must be [N, Cin, H, W], got \(input.shape)")
  precondition(
    weight.rank == 4, "convTranspose2d weight must be [Cin, Cout, kH, kW], got \(weight.shape)")
  precondition(
    weight.shape[0] == input.shape[1],
    "convTranspose2d weight \(weight.shape) expects \(weight.shape[0]) input channels, input is "
      + "\(input.shape)")
  checkBias(bias, outChannels: weight.shape[1], "convTranspose2d")
  let geometry = ConvolutionGeometry(
    batch: input.shape[0], inChannels: input.shape[1], outChannels: weight.shape[1],
    height: input.shape[2], width: input.shape[3],
    kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
    strideY: stride, strideX: stride, paddingY: padding, paddingX: padding,
    outputPaddingY: outputPadding, outputPaddingX: outputPadding, isTransposed: true)
  return convolve(TransposedConvolution.self, geometry, input: input, weight: weight, bias: bias)
}
