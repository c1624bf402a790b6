/// The column matrix of a convolution over one image, a band of output rows at a time.
///
/// For output rows `firstRow ..< firstRow + rowCount` the columns are
/// `columns[K = Cin·kH·kW, rowCount·outW]`, row `(ci·kH + ky)·kW + kx` holding
/// `input[ci, oy·s − p + ky, ox·s − p + kx]` (zero outside the image) at column
/// `(oy − firstRow)·outW + ox`. Then `output[Cout, band] = weight[Cout, K] × columns`.
enum ColumnMatrix {
  /// The span of output columns `ox` whose input column `ox·s − p + kx` is inside `0 ..< W`.
  @inline(__always)
  static func validColumns(_ g: ConvolutionGeometry, kx: Int) -> Range<Int> {
    let firstInside = g.paddingX - kx
    let lower = firstInside > 0 ? (firstInside + g.strideX - 1) / g.strideX : 0
    let lastInside = g.width - 1 + g.paddingX - kx
    let upper = lastInside < 0 ? 0 : min(g.outWidth, lastInside / g.strideX + 1)
    return lower..<max(lower, upper)
  }

  /// Rows of output per band so that the column matrix holds at most `budget` floats (but at
  /// least one row).
  static func rowsPerBand(_ g: ConvolutionGeometry, budget: Int = 1 << 21) -> Int {
    let rowFloats = g.inChannels * g.kernelHeight * g.kernelWidth * g.outWidth
    return max(1, min(g.outHeight, budget / max(1, rowFloats)))
  }

  /// The bands of output rows of a whole batch, each one worker's unit of work: its column
  /// matrix about fits in one core's L2 cache (2¹⁷ floats, 512 KiB), yet has at least 256
  /// columns so that sgemm stays efficient.
  struct Bands {
    let g: ConvolutionGeometry
    let rows: Int
    let perImage: Int
    var total: Int { g.batch * perImage }

    init(_ g: ConvolutionGeometry, minimumRows: Int = 1) {
      self.g = g
      let cacheRows = ColumnMatrix.rowsPerBand(g, budget: 1 << 17)
      let wideRows = (256 + g.outWidth - 1) / g.outWidth
      rows = min(g.outHeight, max(cacheRows, wideRows, minimumRows))
      perImage = (g.outHeight + rows - 1) / rows
    }

    /// Image, first output row and row count of band `index` (`0 ..< total`).
    func band(_ index: Int) -> (n: Int, firstRow: Int, rowCount: Int) {
      let firstRow = index % perImage * rows
      return (index / perImage, firstRow, min(rows, g.outHeight - firstRow))
    }
  }

  /// Whether the column matrix equals the input itself (1×1 kernel, stride 1, no padding).
  static func isIdentity(_ g: ConvolutionGeometry) -> Bool {
    g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideY == 1 && g.strideX == 1
      && g.paddingY == 0 && g.paddingX == 0
  }

  /// Fills `columns` `[K, rowCount·outW]` from one image `[Cin, H, W]` (on the calling thread).
  static func build(
    _ g: ConvolutionGeometry, image: UnsafePointer<Float>, firstRow: Int, rowCount: Int,
    columns: UnsafeMutablePointer<Float>
  ) {
    let bandWidth = rowCount * g.outWidth
    let kernelArea = g.kernelHeight * g.kernelWidth
    for row in 0..<(g.inChannels * kernelArea) {
      let ci = row / kernelArea
      let ky = (row % kernelArea) / g.kernelWidth
      let kx = row % g.kernelWidth
      let valid = validColumns(g, kx: kx)
      let destinationRow = columns + row * bandWidth
      for band in 0..<rowCount {
        let destination = destinationRow + band * g.outWidth
        let y = (firstRow + band) * g.strideY - g.paddingY + ky
        if y < 0 || y >= g.height {
          destination.update(repeating: 0, count: g.outWidth)
          continue
        }
        destination.update(repeating: 0, count: valid.lowerBound)
        (destination + valid.upperBound).update(
          repeating: 0, count: g.outWidth - valid.upperBound)
        let source = image + (ci * g.height + y) * g.width - g.paddingX + kx
        if g.strideX == 1 {
          (destination + valid.lowerBound).update(
            from: source + valid.lowerBound, count: valid.count)
        } else if g.strideX == 2 {
          // Eight outputs from sixteen neighbouring inputs, while those stay inside the row.
          var ox = valid.lowerBound
          while ox + 8 <= valid.upperBound && ox * 2 - g.paddingX + kx + 16 <= g.width {
            let start = UnsafeRawPointer(source + ox * 2)
            let pairs = SIMD16<Float>(
              lowHalf: start.loadUnaligned(as: SIMD8<Float>.self),
              highHalf: start.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
            UnsafeMutableRawPointer(destination + ox).storeBytes(
              of: pairs.evenHalf, as: SIMD8<Float>.self)
            ox += 8
          }
          while ox < valid.upperBound {
            destination[ox] = source[ox * 2]
            ox += 1
          }
        } else {
          for ox in valid { destination[ox] = source[ox * g.strideX] }
        }
      }
    }
  }

  /// Adds `columns` `[K, rowCount·outW]` back into one image gradient `[Cin, H, W]` (the
  /// adjoint of `build`), on the calling thread.
  static func accumulate(
    _ g: ConvolutionGeometry, columns: UnsafePointer<Float>, firstRow: Int, rowCount: Int,
    image: UnsafeMutablePointer<Float>
  ) {
    let bandWidth = rowCount * g.outWidth
    let kernelArea = g.kernelHeight * g.kernelWidth
    for ci in 0..<g.inChannels {
      for tap in 0..<kernelArea {
        let ky = tap / g.kernelWidth
        let kx = tap % g.kernelWidth
        let valid = validColumns(g, kx: kx)
        let sourceRow = columns + (ci * kernelArea + tap) * bandWidth
        for band in 0..<rowCount {
          let y = (firstRow + band) * g.strideY - g.paddingY + ky
          if y < 0 || y >= g.height { continue }
          let source = sourceRow + band * g.outWidth
          let destination = image + (ci * g.height + y) * g.width - g.paddingX + kx
          if g.strideX == 1 {
            for ox in valid { destination[ox] += source[ox] }
          } else {
            for ox in valid { destination[ox * g.strideX] += source[ox] }
          }
        }
      }
    }
  }
}
