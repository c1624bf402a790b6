import CBLAS

/// Fast 2-D convolution over NCHW Float32 buffers.
///
/// Shapes (see `ConvolutionGeometry`, `isTransposed == false`): input `[N, Cin, H, W]`,
/// weight `[Cout, Cin, kH, kW]`, bias `[Cout]`, output `[N, Cout, outH, outW]`, zero padding.
/// Every function overwrites its outputs (nothing accumulates across calls).
///
/// The algorithm is chosen per geometry: Winograd F(4×4, 3×3) for 3×3 stride-1 layers with at
/// least 16 input and output channels (`Winograd`), a direct kernel for stride-1 unpadded
/// layers with at most 4 output channels (`NarrowConvolution`), and otherwise im2col plus
/// `cblas_sgemm` over bands of output rows whose column matrix about fits a core's L2 cache,
/// so memory stays bounded on large images. All match `ReferenceConvolution` within the
/// tolerances of the tests.
public enum Convolution {
  /// `output = weight ⊛ input + bias`: input `[N, Cin, H, W]`, weight `[Cout, Cin, kH, kW]`,
  /// bias `[Cout]` or nil, output `[N, Cout, outH, outW]`.
  public static func forward(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
  ) {
    precondition(!g.isTransposed, "Convolution needs a plain geometry, got \(g)")
    ConvolutionCore.forward(g, input: input, weight: weight, output: output)
    if let bias {
      ConvolutionCore.addBias(
        bias, to: output, batch: g.batch, g.outChannels, g.outHeight * g.outWidth)
    }
  }

  /// Input gradient `[N, Cin, H, W]` from the output gradient `[N, Cout, outH, outW]` and the
  /// weight `[Cout, Cin, kH, kW]`.
  public static func backwardInput(
    _ g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>
  ) {
    precondition(!g.isTransposed, "Convolution needs a plain geometry, got \(g)")
    ConvolutionCore.backwardInput(
      g, outputGradient: outputGradient, weight: weight, inputGradient: inputGradient)
  }

  /// Weight gradient `[Cout, Cin, kH, kW]` and, when asked, bias gradient `[Cout]`, from the
  /// input `[N, Cin, H, W]` and the output gradient `[N, Cout, outH, outW]`, summed over the
  /// batch.
  public static func backwardWeight(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
    weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?
  ) {
    precondition(!g.isTransposed, "Convolution needs a plain geometry, got \(g)")
    ConvolutionCore.backwardWeight(
      g, input: input, outputGradient: outputGradient, weightGradient: weightGradient)
    if let biasGradient {
      ConvolutionCore.sumPlanes(
        outputGradient, into: biasGradient, batch: g.batch, g.outChannels,
        g.outHeight * g.outWidth)
    }
  }
}

/// The three sgemm-based passes over a plain convolution geometry, shared by `Convolution`
/// and `TransposedConvolution` (whose forward pass is a convolution's input gradient). 3×3
/// stride-1 geometries with enough channels go to `Winograd`; everything else (and those too,
/// with `allowWinograd: false`, which the tests use) to banded im2col.
enum ConvolutionCore {
  /// `output [N, Cout, outH, outW] = weight [Cout, K] × columns [K, band]`, no bias.
  static func forward(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>, allowWinograd: Bool = true
  ) {
    if allowWinograd && Winograd.supports(g) {
      Winograd.forward(g, input: input, weight: weight, output: output)
      return
    }
    if allowWinograd && NarrowConvolution.supports(g) {
      NarrowConvolution.forward(g, input: input, weight: weight, output: output)
      return
    }
    let reduction = g.inChannels * g.kernelHeight * g.kernelWidth
    let outPlane = g.outHeight * g.outWidth
    let inPlane = g.height * g.width
    if ColumnMatrix.isIdentity(g) {
      for n in 0..<g.batch {
        ComputeThreads.sgemm(
          transposeA: false, transposeB: false, g.outChannels, outPlane, reduction, weight,
          reduction, input + n * g.inChannels * inPlane, inPlane,
          output + n * g.outChannels * outPlane, outPlane)
      }
      return
    }

    // Each worker builds the column matrix of its own band (sized for its core's cache) and
    // multiplies it at once, while it is still in cache. With fewer bands than workers (small
    // images), the bands are taken one after another and each product is split instead.
    let bands = ColumnMatrix.Bands(g)
    if bands.total < ComputeThreads.threadCount {
      for index in 0..<bands.total {
        withBandColumns(g, bands, index, input: input) { n, rowOffset, bandWidth, columns in
          ComputeThreads.sgemm(
            transposeA: false, transposeB: false, g.outChannels, bandWidth, reduction, weight,
            reduction, columns, bandWidth, output + n * g.outChannels * outPlane + rowOffset,
            outPlane)
        }
      }
      return
    }
    ComputeThreads.parallelFor(bands.total) { index in
      withBandColumns(g, bands, index, input: input) { n, rowOffset, bandWidth, columns in
        cblas_sgemm(
          CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(g.outChannels), Int32(bandWidth),
          Int32(reduction), 1, weight, Int32(reduction), columns, Int32(bandWidth), 0,
          output + n * g.outChannels * outPlane + rowOffset, Int32(outPlane))
      }
    }
  }

  /// `inputGradient [N, Cin, H, W] = col2im(weightᵀ [K, Cout] × outputGradient [Cout, band])`.
  static func backwardInput(
    _ g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
    allowWinograd: Bool = true
  ) {
    if allowWinograd && Winograd.supports(g) {
      Winograd.backwardInput(
        g, outputGradient: outputGradient, weight: weight, inputGradient: inputGradient)
      return
    }
    if allowWinograd && prefersFlippedKernel(g) {
      backwardInputByFlippedKernel(
        g, outputGradient: outputGradient, weight: weight, inputGradient: inputGradient)
      return
    }
    let reduction = g.inChannels * g.kernelHeight * g.kernelWidth
    let outPlane = g.outHeight * g.outWidth
    let inPlane = g.height * g.width
    if ColumnMatrix.isIdentity(g) {
      for n in 0..<g.batch {
        ComputeThreads.sgemm(
          transposeA: true, transposeB: false, g.inChannels, outPlane, g.outChannels, weight,
          reduction, outputGradient + n * g.outChannels * outPlane, outPlane,
          inputGradient + n * g.inChannels * inPlane, inPlane)
      }
      return
    }
    inputGradient.update(repeating: 0, count: g.inputCount)

    // Each worker multiplies and scatters its own bands. Neighbouring bands add into a few
    // shared input rows, so the even bands run first and the odd ones after them; bands are
    // tall enough that two bands of the same parity never meet.
    let bands = ColumnMatrix.Bands(g, minimumRows: (g.kernelHeight - 1) / g.strideY + 1)

    // The product and scatter of band `index`; `splitting` spreads the product over the
    // workers (when the bands themselves are fewer than the workers).
    func multiplyAndScatter(_ index: Int, splitting: Bool) {
      let (n, firstRow, rowCount) = bands.band(index)
      let bandWidth = rowCount * g.outWidth
      let gradientBand = outputGradient + n * g.outChannels * outPlane + firstRow * g.outWidth
      ScratchPool.withBuffer(reduction * bandWidth) { columns in
        if splitting {
          ComputeThreads.sgemm(
            transposeA: true, transposeB: false, reduction, bandWidth, g.outChannels, weight,
            reduction, gradientBand, outPlane, columns, bandWidth)
        } else {
          cblas_sgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(reduction), Int32(bandWidth),
            Int32(g.outChannels), 1, weight, Int32(reduction), gradientBand, Int32(outPlane), 0,
            columns, Int32(bandWidth))
        }
        ColumnMatrix.accumulate(
          g, columns: columns, firstRow: firstRow, rowCount: rowCount,
          image: inputGradient + n * g.inChannels * inPlane)
      }
    }

    for parity in 0..<2 {
      let count = (bands.perImage - parity + 1) / 2
      let jobs = g.batch * count
      func band(_ job: Int) -> Int { job / count * bands.perImage + 2 * (job % count) + parity }
      if jobs < ComputeThreads.threadCount {
        for job in 0..<jobs { multiplyAndScatter(band(job), splitting: true) }
      } else {
        ComputeThreads.parallelFor(jobs) { job in multiplyAndScatter(band(job), splitting: false) }
      }
    }
  }

  /// `weightGradient [Cout, K] = Σ outputGradient [Cout, band] × columns [K, band]ᵀ`.
  static func backwardWeight(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
    weightGradient: UnsafeMutablePointer<Float>, allowWinograd: Bool = true
  ) {
    if allowWinograd && Winograd.supports(g) {
      Winograd.backwardWeight(
        g, input: input, outputGradient: outputGradient, weightGradient: weightGradient)
      return
    }
    if allowWinograd && NarrowConvolution.supports(g) {
      NarrowConvolution.backwardWeight(
        g, input: input, outputGradient: outputGradient, weightGradient: weightGradient)
      return
    }
    let reduction = g.inChannels * g.kernelHeight * g.kernelWidth
    let outPlane = g.outHeight * g.outWidth
    let inPlane = g.height * g.width
    if ColumnMatrix.isIdentity(g) {
      for n in 0..<g.batch {
        ComputeThreads.sgemm(
          transposeA: false, transposeB: true, g.outChannels, reduction, outPlane,
          outputGradient + n * g.outChannels * outPlane, outPlane,
          input + n * g.inChannels * inPlane, inPlane, beta: n == 0 ? 0 : 1, weightGradient,
          reduction)
      }
      return
    }

    // Each worker sums the products of its own bands into its own copy of the gradient (the
    // first worker's copy is the result), then the copies are added. With fewer bands than
    // workers (small images), the bands are taken one after another and each product split.
    let bands = ColumnMatrix.Bands(g)
    if bands.total < ComputeThreads.threadCount {
      for index in 0..<bands.total {
        withBandColumns(g, bands, index, input: input) { n, rowOffset, bandWidth, columns in
          ComputeThreads.sgemm(
            transposeA: false, transposeB: true, g.outChannels, reduction, bandWidth,
            outputGradient + n * g.outChannels * outPlane + rowOffset, outPlane,
            columns, bandWidth, beta: index == 0 ? 0 : 1, weightGradient, reduction)
        }
      }
      return
    }
    let workers = min(ComputeThreads.threadCount, bands.total)
    let partialCount = g.outChannels * reduction
    ScratchPool.withBuffer(max(0, workers - 1) * partialCount) { partials in
      ComputeThreads.parallelFor(workers) { worker in
        let target = worker == 0 ? weightGradient : partials + (worker - 1) * partialCount
        let first = bands.total * worker / workers
        let end = bands.total * (worker + 1) / workers
        var beta: Float = 0
        for index in first..<end {
          withBandColumns(g, bands, index, input: input) { n, rowOffset, bandWidth, columns in
            cblas_sgemm(
              CblasRowMajor, CblasNoTrans, CblasTrans, Int32(g.outChannels), Int32(reduction),
              Int32(bandWidth), 1, outputGradient + n * g.outChannels * outPlane + rowOffset,
              Int32(outPlane), columns, Int32(bandWidth), beta, target, Int32(reduction))
          }
          beta = 1
        }
        if first == end { target.update(repeating: 0, count: partialCount) }
      }
      ComputeThreads.parallelFor(partialCount, minimumPerWorker: 1 << 14) { offset in
        for worker in 1..<max(1, workers) {
          weightGradient[offset] += partials[(worker - 1) * partialCount + offset]
        }
      }
    }
  }

  /// Builds the column matrix `[K, rowCount · outW]` of band `index` of `input`
  /// `[N, Cin, H, W]` in a scratch buffer and hands it to `body` with the band's image `n`, the
  /// offset of its first output row in an output plane, and its width `rowCount · outW`.
  static func withBandColumns(
    _ g: ConvolutionGeometry, _ bands: ColumnMatrix.Bands, _ index: Int,
    input: UnsafePointer<Float>,
    _ body: (
      _ n: Int, _ rowOffset: Int, _ bandWidth: Int, _ columns: UnsafeMutablePointer<Float>
    ) -> Void
  ) {
    let (n, firstRow, rowCount) = bands.band(index)
    let bandWidth = rowCount * g.outWidth
    let reduction = g.inChannels * g.kernelHeight * g.kernelWidth
    ScratchPool.withBuffer(reduction * bandWidth) { columns in
      ColumnMatrix.build(
        g, image: input + n * g.inChannels * g.height * g.width, firstRow: firstRow,
        rowCount: rowCount, columns: columns)
      body(n, firstRow * g.outWidth, bandWidth, columns)
    }
  }

  /// Whether the input gradient is better computed as a forward convolution of the output
  /// gradient: stride 1, and far fewer output than input channels, so that col2im would
  /// scatter a column matrix `kH·kW·Cin / Cout` times larger than the gradient it reads.
  static func prefersFlippedKernel(_ g: ConvolutionGeometry) -> Bool {
    !g.isTransposed && g.strideY == 1 && g.strideX == 1 && g.outChannels * 4 <= g.inChannels
      && g.paddingY < g.kernelHeight && g.paddingX < g.kernelWidth
  }

  /// The input gradient of a stride-1 convolution as the forward convolution of the output
  /// gradient `[N, Cout, outH, outW]` with the flipped kernel `[Cin, Cout, kH, kW]`
  /// (`weight[co, ci, kH − 1 − ky, kW − 1 − kx]`) and padding `k − 1 − p`.
  static func backwardInputByFlippedKernel(
    _ g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>
  ) {
    let flipped = ConvolutionGeometry(
      batch: g.batch, inChannels: g.outChannels, outChannels: g.inChannels,
      height: g.outHeight, width: g.outWidth, kernelHeight: g.kernelHeight,
      kernelWidth: g.kernelWidth, paddingY: g.kernelHeight - 1 - g.paddingY,
      paddingX: g.kernelWidth - 1 - g.paddingX)
    precondition(
      flipped.outHeight == g.height && flipped.outWidth == g.width,
      "flipped kernel does not restore the input size of \(g)")
    let kernelArea = g.kernelHeight * g.kernelWidth
    ScratchPool.withBuffer(g.weightCount) { flippedWeight in
      for co in 0..<g.outChannels {
        for ci in 0..<g.inChannels {
          let source = weight + (co * g.inChannels + ci) * kernelArea
          let target = flippedWeight + (ci * g.outChannels + co) * kernelArea
          for tap in 0..<kernelArea { target[kernelArea - 1 - tap] = source[tap] }
        }
      }
      forward(flipped, input: outputGradient, weight: flippedWeight, output: inputGradient)
    }
  }

  /// `planes[n, c, :] += bias[c]` over `[N, C, plane]`.
  static func addBias(
    _ bias: UnsafePointer<Float>, to planes: UnsafeMutablePointer<Float>, batch: Int,
    _ channels: Int, _ plane: Int
  ) {
    ComputeThreads.parallelFor(batch * channels, minimumPerWorker: 8) { index in
      let value = bias[index % channels]
      let start = planes + index * plane
      for offset in 0..<plane { start[offset] += value }
    }
  }

  /// `sums[c] = Σ_{n, i} planes[n, c, i]` over `[N, C, plane]`.
  static func sumPlanes(
    _ planes: UnsafePointer<Float>, into sums: UnsafeMutablePointer<Float>, batch: Int,
    _ channels: Int, _ plane: Int
  ) {
    ComputeThreads.parallelFor(channels, minimumPerWorker: 8) { channel in
      var total: Float = 0
      for n in 0..<batch {
        total += sum(planes + (n * channels + channel) * plane, count: plane)
      }
      sums[channel] = total
    }
  }

  /// The sum of `count` floats, in eight interleaved partial sums (vectorisable).
  @inline(__always)
  static func sum(_ values: UnsafePointer<Float>, count: Int) -> Float {
    var partial = SIMD8<Float>(repeating: 0)
    var index = 0
    while index + 8 <= count {
      partial += UnsafeRawPointer(values + index).loadUnaligned(as: SIMD8<Float>.self)
      index += 8
    }
    var total = partial.sum()
    while index < count {
      total += values[index]
      index += 1
    }
    return total
  }
}
