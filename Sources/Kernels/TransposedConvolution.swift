/// Fast 2-D transposed convolution (PyTorch's `ConvTranspose2d`) over NCHW Float32 buffers.
///
/// Shapes (see `ConvolutionGeometry`, `isTransposed == true`): input `[N, Cin, H, W]`, weight
/// `[Cin, Cout, kH, kW]`, bias `[Cout]`, output `[N, Cout, outH, outW]`. Every function
/// overwrites its outputs.
///
/// A transposed convolution is the adjoint of the plain convolution that maps
/// `[N, Cout, outH, outW]` to `[N, Cin, H, W]` with the same weight buffer read as
/// `[Cin, Cout, kH, kW]` = `[convOut, convIn, kH, kW]`. So its forward pass is that
/// convolution's input gradient, its input gradient is that convolution's forward pass, and
/// its weight gradient is that convolution's weight gradient with the roles of input and
/// output gradient exchanged; all three run on `Convolution`'s banded im2col plus sgemm.
public enum TransposedConvolution {
  /// `output [N, Cout, outH, outW]` from input `[N, Cin, H, W]`, weight `[Cin, Cout, kH, kW]`
  /// and bias `[Cout]` or nil.
  public static func forward(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
  ) {
    let adjoint = adjointConvolution(g)
    ConvolutionCore.backwardInput(
      adjoint, outputGradient: input, weight: weight, inputGradient: output)
    if let bias {
      ConvolutionCore.addBias(
        bias, to: output, batch: g.batch, g.outChannels, g.outHeight * g.outWidth)
    }
  }

  /// Input gradient `[N, Cin, H, W]` from the output gradient `[N, Cout, outH, outW]` and the
  /// weight `[Cin, Cout, kH, kW]`.
  public static func backwardInput(
    _ g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>
  ) {
    let adjoint = adjointConvolution(g)
    ConvolutionCore.forward(adjoint, input: outputGradient, weight: weight, output: inputGradient)
  }

  /// Weight gradient `[Cin, Cout, kH, kW]` and, when asked, bias gradient `[Cout]`, from the
  /// input `[N, Cin, H, W]` and the output gradient `[N, Cout, outH, outW]`, summed over the
  /// batch.
  public static func backwardWeight(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
    weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?
  ) {
    let adjoint = adjointConvolution(g)
    ConvolutionCore.backwardWeight(
      adjoint, input: outputGradient, outputGradient: input, weightGradient: weightGradient)
    if let biasGradient {
      ConvolutionCore.sumPlanes(
        outputGradient, into: biasGradient, batch: g.batch, g.outChannels,
        g.outHeight * g.outWidth)
    }
  }

  /// The plain convolution `[N, Cout, outH, outW] → [N, Cin, H, W]` whose adjoint `g` is.
  static func adjointConvolution(_ g: ConvolutionGeometry) -> ConvolutionGeometry {
    precondition(g.isTransposed, "TransposedConvolution needs a transposed geometry, got \(g)")
    precondition(
      g.outputPaddingY < g.strideY && g.outputPaddingX < g.strideX,
      "output padding \(g.outputPaddingY)×\(g.outputPaddingX) must be smaller than the stride "
        + "\(g.strideY)×\(g.strideX)")
    let adjoint = ConvolutionGeometry(
      batch: g.batch, inChannels: g.outChannels, outChannels: g.inChannels,
      height: g.outHeight, width: g.outWidth, kernelHeight: g.kernelHeight,
      kernelWidth: g.kernelWidth, strideY: g.strideY, strideX: g.strideX,
      paddingY: g.paddingY, paddingX: g.paddingX)
    precondition(
      adjoint.outHeight == g.height && adjoint.outWidth == g.width,
      "transposed geometry does not invert: \(g)")
    return adjoint
  }
}
