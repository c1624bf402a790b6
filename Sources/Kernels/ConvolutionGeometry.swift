/// The sizes of one 2-D convolution or transposed convolution over NCHW Float32 buffers.
///
/// Shapes, with `N` the batch and `k` the kernel extent:
/// - convolution: input `[N, Cin, H, W]`, weight `[Cout, Cin, kH, kW]`, bias `[Cout]`,
///   output `[N, Cout, outH, outW]` with `outH = (H + 2·padH − kH) / strideH + 1`;
/// - transposed convolution (PyTorch's `ConvTranspose2d`): input `[N, Cin, H, W]`, weight
///   `[Cin, Cout, kH, kW]`, output `[N, Cout, outH, outW]` with
///   `outH = (H − 1)·strideH − 2·padH + kH + outputPadH`.
public struct ConvolutionGeometry: Sendable, Equatable {
  public var batch: Int
  public var inChannels: Int
  public var outChannels: Int
  public var height: Int
  public var width: Int
  public var kernelHeight: Int
  public var kernelWidth: Int
  public var strideY: Int
  public var strideX: Int
  public var paddingY: Int
  public var paddingX: Int
  /// Extra rows and columns at the far edge of a transposed convolution's output (0 otherwise).
  public var outputPaddingY: Int
  public var outputPaddingX: Int
  /// Whether this describes a transposed convolution.
  public var isTransposed: Bool

  public init(
    batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int,
    kernelHeight: Int, kernelWidth: Int, strideY: Int = 1, strideX: Int = 1,
    paddingY: Int = 0, paddingX: Int = 0, outputPaddingY: Int = 0, outputPaddingX: Int = 0,
    isTransposed: Bool = false
  ) {
    self.batch = batch
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.height = height
    self.width = width
    self.kernelHeight = kernelHeight
    self.kernelWidth = kernelWidth
    self.strideY = strideY
    self.strideX = strideX
    self.paddingY = paddingY
    self.paddingX = paddingX
    self.outputPaddingY = outputPaddingY
    self.outputPaddingX = outputPaddingX
    self.isTransposed = isTransposed
    precondition(strideY > 0 && strideX > 0, "stride must be positive: \(strideY)×\(strideX)")
    precondition(outHeight > 0 && outWidth > 0, "empty convolution output for \(self)")
  }

  /// Output rows.
  public var outHeight: Int {
    isTransposed
      ? (height - 1) * strideY - 2 * paddingY + kernelHeight + outputPaddingY
      : (height + 2 * paddingY - kernelHeight) / strideY + 1
  }

  /// Output columns.
  public var outWidth: Int {
    isTransposed
      ? (width - 1) * strideX - 2 * paddingX + kernelWidth + outputPaddingX
      : (width + 2 * paddingX - kernelWidth) / strideX + 1
  }

  /// Elements of the input: `N·Cin·H·W`.
  public var inputCount: Int { batch * inChannels * height * width }
  /// Elements of the output: `N·Cout·outH·outW`.
  public var outputCount: Int { batch * outChannels * outHeight * outWidth }
  /// Elements of the weight: `Cout·Cin·kH·kW` (the same count in either layout).
  public var weightCount: Int { outChannels * inChannels * kernelHeight * kernelWidth }
}
