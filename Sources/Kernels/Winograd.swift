import CBLAS

/// Winograd F(4×4, 3×3) for 3×3 stride-1 convolutions (Lavin and Gray, 2016), forward and both
/// gradients, with the elementwise products batched into 36 `cblas_sgemm` calls.
///
/// The output is cut into 4×4 tiles; each tile reads a 6×6 input patch `d` (zero outside the
/// image) and is `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`, which costs 36 multiplies per tile and
/// channel pair instead of 144. Over channels the ⊙ becomes, for each of the 36 points `ξ`, a
/// matrix product `M[ξ] [Cout, tiles] = U[ξ] [Cout, Cin] × V[ξ] [Cin, tiles]`. The gradients use
/// the adjoints of the same linear maps (exact, not another approximation):
/// - input: `dM = A dY Aᵀ`, `dV[ξ] = U[ξ]ᵀ dM[ξ]`, `dd = B dV Bᵀ` added over overlapping patches;
/// - weight: `dU[ξ] = Σ dM[ξ] V[ξ]ᵀ`, `dg = Gᵀ dU G`.
///
/// The transforms run on eight tiles at once in SIMD lanes. Tiles are processed a band of tile
/// rows at a time (at most about 2²² floats per transformed buffer) so memory stays bounded.
/// Float32 rounding grows a little compared with im2col (the transforms multiply by up to 8 and
/// divide by 24); the tests bound it against the Double reference.
enum Winograd {
  typealias Lanes = SIMD8<Float>

  /// Whether `g` is a convolution this path handles and is worth it for.
  static func supports(_ g: ConvolutionGeometry) -> Bool {
    !g.isTransposed && g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideY == 1
      && g.strideX == 1 && g.inChannels >= 16 && g.outChannels >= 16 && g.outHeight >= 4
      && g.outWidth >= 4
  }

  /// The tile grid of one image and the band of tile rows processed at once.
  struct Tiling {
    let g: ConvolutionGeometry
    let tilesY: Int
    let tilesX: Int
    let bandTileRows: Int
    /// Tiles per band rounded up to whole SIMD groups: the leading dimension of V and M.
    let bandStride: Int

    init(_ g: ConvolutionGeometry, budget: Int = 1 << 22) {
      self.g = g
      tilesY = (g.outHeight + 3) / 4
      tilesX = (g.outWidth + 3) / 4
      let perTileRow = 36 * max(g.inChannels, g.outChannels) * tilesX
      bandTileRows = max(1, min(tilesY, budget / perTileRow))
      bandStride = (bandTileRows * tilesX + 7) / 8 * 8
    }

    /// Floats of a transformed buffer with `channels` channels: `[36, channels, bandStride]`.
    func transformedCount(_ channels: Int) -> Int { 36 * channels * bandStride }

    /// Rows and columns of the zero-padded input patch plane of one band.
    var inputPlaneWidth: Int { tilesX * 4 + 2 }
    var inputPlaneHeight: Int { bandTileRows * 4 + 2 }
    /// Rows and columns of the tile-aligned output plane of one band.
    var outputPlaneWidth: Int { tilesX * 4 }
    var outputPlaneHeight: Int { bandTileRows * 4 }

    /// Offsets, in a plane of width `planeWidth`, of the top-left corners of tiles
    /// `first ..< first + 8` of a band (lanes past `tileCount` point at tile 0).
    @inline(__always)
    func corners(first: Int, tileCount: Int, planeWidth: Int) -> SIMD8<Int> {
      var corners = SIMD8<Int>(repeating: 0)
      for lane in 0..<8 where first + lane < tileCount {
        let tile = first + lane
        corners[lane] = (tile / tilesX) * 4 * planeWidth + (tile % tilesX) * 4
      }
      return corners
    }
  }

  // MARK: - The three passes

  /// `output [N, Cout, outH, outW]` (no bias) from input `[N, Cin, H, W]` and weight
  /// `[Cout, Cin, 3, 3]`.
  static func forward(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>
  ) {
    ComputeThreads.prepareBLAS()
    let tiling = Tiling(g)
    ScratchPool.withBuffer(36 * g.outChannels * g.inChannels) { u in
      transformWeight(g, weight: weight, into: u)
      ScratchPool.withBuffer(tiling.transformedCount(g.inChannels)) { v in
        ScratchPool.withBuffer(tiling.transformedCount(g.outChannels)) { m in
          for n in 0..<g.batch {
            let image = input + n * g.inChannels * g.height * g.width
            let result = output + n * g.outChannels * g.outHeight * g.outWidth
            for firstTileRow in stride(from: 0, to: tiling.tilesY, by: tiling.bandTileRows) {
              let tileRows = min(tiling.bandTileRows, tiling.tilesY - firstTileRow)
              let tileCount = tileRows * tiling.tilesX
              transformInput(
                tiling, image: image, firstTileRow: firstTileRow, tileRows: tileRows, into: v)
              ComputeThreads.parallelFor(36) { point in
                cblas_sgemm(
                  CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(g.outChannels),
                  Int32(tileCount), Int32(g.inChannels), 1,
                  u + point * g.outChannels * g.inChannels, Int32(g.inChannels),
                  v + point * g.inChannels * tiling.bandStride, Int32(tiling.bandStride), 0,
                  m + point * g.outChannels * tiling.bandStride, Int32(tiling.bandStride))
              }
              transformOutput(
                tiling, m, firstTileRow: firstTileRow, tileRows: tileRows, into: result)
            }
          }
        }
      }
    }
  }

  /// Input gradient `[N, Cin, H, W]` from the output gradient `[N, Cout, outH, outW]` and the
  /// weight `[Cout, Cin, 3, 3]`.
  static func backwardInput(
    _ g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>
  ) {
    ComputeThreads.prepareBLAS()
    let tiling = Tiling(g)
    inputGradient.update(repeating: 0, count: g.inputCount)
    ScratchPool.withBuffer(36 * g.outChannels * g.inChannels) { u in
      // Uᵀ directly, so that the products need no transposition (which OpenBLAS packs slower).
      transformWeight(g, weight: weight, into: u, transposed: true)
      ScratchPool.withBuffer(tiling.transformedCount(g.outChannels)) { dm in
        ScratchPool.withBuffer(tiling.transformedCount(g.inChannels)) { dv in
          for n in 0..<g.batch {
            let gradient = outputGradient + n * g.outChannels * g.outHeight * g.outWidth
            let result = inputGradient + n * g.inChannels * g.height * g.width
            for firstTileRow in stride(from: 0, to: tiling.tilesY, by: tiling.bandTileRows) {
              let tileRows = min(tiling.bandTileRows, tiling.tilesY - firstTileRow)
              let tileCount = tileRows * tiling.tilesX
              transformOutputGradient(
                tiling, gradient, firstTileRow: firstTileRow, tileRows: tileRows, into: dm)
              ComputeThreads.parallelFor(36) { point in
                cblas_sgemm(
                  CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(g.inChannels),
                  Int32(tileCount), Int32(g.outChannels), 1,
                  u + point * g.outChannels * g.inChannels, Int32(g.outChannels),
                  dm + point * g.outChannels * tiling.bandStride, Int32(tiling.bandStride), 0,
                  dv + point * g.inChannels * tiling.bandStride, Int32(tiling.bandStride))
              }
              accumulateInputGradient(
                tiling, dv, firstTileRow: firstTileRow, tileRows: tileRows, into: result)
            }
          }
        }
      }
    }
  }

  /// Weight gradient `[Cout, Cin, 3, 3]` from the input `[N, Cin, H, W]` and the output
  /// gradient `[N, Cout, outH, outW]`, summed over the batch (no bias).
  static func backwardWeight(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
    weightGradient: UnsafeMutablePointer<Float>
  ) {
    ComputeThreads.prepareBLAS()
    let tiling = Tiling(g)
    ScratchPool.withBuffer(36 * g.outChannels * g.inChannels) { du in
      ScratchPool.withBuffer(tiling.transformedCount(g.inChannels)) { v in
        ScratchPool.withBuffer(tiling.transformedCount(g.outChannels)) { dm in
          var beta: Float = 0
          for n in 0..<g.batch {
            let image = input + n * g.inChannels * g.height * g.width
            let gradient = outputGradient + n * g.outChannels * g.outHeight * g.outWidth
            for firstTileRow in stride(from: 0, to: tiling.tilesY, by: tiling.bandTileRows) {
              let tileRows = min(tiling.bandTileRows, tiling.tilesY - firstTileRow)
              let tileCount = tileRows * tiling.tilesX
              transformInput(
                tiling, image: image, firstTileRow: firstTileRow, tileRows: tileRows, into: v)
              transformOutputGradient(
                tiling, gradient, firstTileRow: firstTileRow, tileRows: tileRows, into: dm)
              ComputeThreads.parallelFor(36) { point in
                cblas_sgemm(
                  CblasRowMajor, CblasNoTrans, CblasTrans, Int32(g.outChannels),
                  Int32(g.inChannels), Int32(tileCount), 1,
                  dm + point * g.outChannels * tiling.bandStride, Int32(tiling.bandStride),
                  v + point * g.inChannels * tiling.bandStride, Int32(tiling.bandStride), beta,
                  du + point * g.outChannels * g.inChannels, Int32(g.inChannels))
              }
              beta = 1
            }
          }
          transformWeightGradient(g, du, into: weightGradient)
        }
      }
    }
  }

  // MARK: - Transforms of one band, channel by channel

  /// `V[ξ, ci, tile] = (Bᵀ d B)[ξ]` for the tiles of one band: V is `[36, Cin, bandStride]`.
  static func transformInput(
    _ tiling: Tiling, image: UnsafePointer<Float>, firstTileRow: Int, tileRows: Int,
    into v: UnsafeMutablePointer<Float>
  ) {
    let g = tiling.g
    let planeWidth = tiling.inputPlaneWidth
    let planeHeight = tileRows * 4 + 2
    let tileCount = tileRows * tiling.tilesX
    let pointStride = g.inChannels * tiling.bandStride
    let firstY = firstTileRow * 4 - g.paddingY
    ComputeThreads.parallelFor(g.inChannels) { ci in
      ScratchPool.withBuffer(planeWidth * planeHeight + 36 * 8 + 40) { scratch in
        // The band's input rows, zero-padded to whole patches.
        let plane = scratch + 36 * 8
        let channel = image + ci * g.height * g.width
        for row in 0..<planeHeight {
          copyPaddedRow(
            from: channel, y: firstY + row, firstX: -g.paddingX, count: planeWidth, g: g,
            into: plane + row * planeWidth)
        }
        let columns = UnsafeMutableRawPointer(scratch).bindMemory(to: Lanes.self, capacity: 36)
        for first in stride(from: 0, to: tileCount, by: 8) {
          let corners = tiling.corners(first: first, tileCount: tileCount, planeWidth: planeWidth)
          let contiguous = corners[7] == corners[0] + 28
          // Bᵀ d: along the rows of each patch column.
          for j in 0..<6 {
            let column = plane + j
            let r = inputRows(
              gather(column, corners, contiguous),
              gather(column + planeWidth, corners, contiguous),
              gather(column + 2 * planeWidth, corners, contiguous),
              gather(column + 3 * planeWidth, corners, contiguous),
              gather(column + 4 * planeWidth, corners, contiguous),
              gather(column + 5 * planeWidth, corners, contiguous))
            columns[j] = r.0
            columns[6 + j] = r.1
            columns[12 + j] = r.2
            columns[18 + j] = r.3
            columns[24 + j] = r.4
            columns[30 + j] = r.5
          }
          // (Bᵀ d) B: along each row.
          let destination = v + ci * tiling.bandStride + first
          for i in 0..<6 {
            let c = inputRows(
              columns[6 * i], columns[6 * i + 1], columns[6 * i + 2], columns[6 * i + 3],
              columns[6 * i + 4], columns[6 * i + 5])
            store(c.0, destination + (6 * i) * pointStride)
            store(c.1, destination + (6 * i + 1) * pointStride)
            store(c.2, destination + (6 * i + 2) * pointStride)
            store(c.3, destination + (6 * i + 3) * pointStride)
            store(c.4, destination + (6 * i + 4) * pointStride)
            store(c.5, destination + (6 * i + 5) * pointStride)
          }
        }
      }
    }
  }

  /// `output[co] = Aᵀ M A` over the tiles of one band, clipped to the image; M is
  /// `[36, Cout, bandStride]`.
  static func transformOutput(
    _ tiling: Tiling, _ m: UnsafePointer<Float>, firstTileRow: Int, tileRows: Int,
    into output: UnsafeMutablePointer<Float>
  ) {
    let g = tiling.g
    let planeWidth = tiling.outputPlaneWidth
    let tileCount = tileRows * tiling.tilesX
    let pointStride = g.outChannels * tiling.bandStride
    let firstY = firstTileRow * 4
    let rows = min(tileRows * 4, g.outHeight - firstY)
    ComputeThreads.parallelFor(g.outChannels) { co in
      ScratchPool.withBuffer(planeWidth * tileRows * 4 + 24 * 8) { scratch in
        let plane = scratch + 24 * 8
        let columns = UnsafeMutableRawPointer(scratch).bindMemory(to: Lanes.self, capacity: 24)
        for first in stride(from: 0, to: tileCount, by: 8) {
          let source = m + co * tiling.bandStride + first
          // Aᵀ M: along the rows of each point column.
          for j in 0..<6 {
            let r = outputRows(
              load(source + j * pointStride), load(source + (6 + j) * pointStride),
              load(source + (12 + j) * pointStride), load(source + (18 + j) * pointStride),
              load(source + (24 + j) * pointStride), load(source + (30 + j) * pointStride))
            columns[j] = r.0
            columns[6 + j] = r.1
            columns[12 + j] = r.2
            columns[18 + j] = r.3
          }
          // (Aᵀ M) A, scattered into the band's tile-aligned plane.
          let corners = tiling.corners(first: first, tileCount: tileCount, planeWidth: planeWidth)
          let lanes = min(8, tileCount - first)
          let contiguous = corners[7] == corners[0] + 28
          for i in 0..<4 {
            let y = outputRows(
              columns[6 * i], columns[6 * i + 1], columns[6 * i + 2], columns[6 * i + 3],
              columns[6 * i + 4], columns[6 * i + 5])
            let rowStart = plane + i * planeWidth
            if contiguous {
              // Eight neighbouring tiles of one row: 32 floats from the first corner.
              storeInterleaved(y.0, y.1, y.2, y.3, to: rowStart + corners[0])
              continue
            }
            for lane in 0..<lanes {
              let target = rowStart + corners[lane]
              target[0] = y.0[lane]
              target[1] = y.1[lane]
              target[2] = y.2[lane]
              target[3] = y.3[lane]
            }
          }
        }
        let channel = output + co * g.outHeight * g.outWidth + firstY * g.outWidth
        for row in 0..<rows {
          (channel + row * g.outWidth).update(from: plane + row * planeWidth, count: g.outWidth)
        }
      }
    }
  }

  /// `dM[ξ, co, tile] = (A dY Aᵀ)[ξ]` for the tiles of one band (the adjoint of
  /// `transformOutput`); dM is `[36, Cout, bandStride]`.
  static func transformOutputGradient(
    _ tiling: Tiling, _ outputGradient: UnsafePointer<Float>, firstTileRow: Int, tileRows: Int,
    into dm: UnsafeMutablePointer<Float>
  ) {
    let g = tiling.g
    let planeWidth = tiling.outputPlaneWidth
    let planeHeight = tileRows * 4
    let tileCount = tileRows * tiling.tilesX
    let pointStride = g.outChannels * tiling.bandStride
    let firstY = firstTileRow * 4
    ComputeThreads.parallelFor(g.outChannels) { co in
      ScratchPool.withBuffer(planeWidth * planeHeight + 36 * 8 + 40) { scratch in
        let plane = scratch + 36 * 8
        let channel = outputGradient + co * g.outHeight * g.outWidth
        for row in 0..<planeHeight {
          let y = firstY + row
          let target = plane + row * planeWidth
          if y < g.outHeight {
            target.update(from: channel + y * g.outWidth, count: g.outWidth)
            (target + g.outWidth).update(repeating: 0, count: planeWidth - g.outWidth)
          } else {
            target.update(repeating: 0, count: planeWidth)
          }
        }
        let columns = UnsafeMutableRawPointer(scratch).bindMemory(to: Lanes.self, capacity: 36)
        for first in stride(from: 0, to: tileCount, by: 8) {
          let corners = tiling.corners(first: first, tileCount: tileCount, planeWidth: planeWidth)
          let contiguous = corners[7] == corners[0] + 28
          // A dY: along the rows of each tile column.
          for j in 0..<4 {
            let column = plane + j
            let r = outputRowsAdjoint(
              gather(column, corners, contiguous),
              gather(column + planeWidth, corners, contiguous),
              gather(column + 2 * planeWidth, corners, contiguous),
              gather(column + 3 * planeWidth, corners, contiguous))
            columns[j] = r.0
            columns[6 + j] = r.1
            columns[12 + j] = r.2
            columns[18 + j] = r.3
            columns[24 + j] = r.4
            columns[30 + j] = r.5
          }
          // (A dY) Aᵀ: along each row.
          let destination = dm + co * tiling.bandStride + first
          for i in 0..<6 {
            let c = outputRowsAdjoint(
              columns[6 * i], columns[6 * i + 1], columns[6 * i + 2], columns[6 * i + 3])
            store(c.0, destination + (6 * i) * pointStride)
            store(c.1, destination + (6 * i + 1) * pointStride)
            store(c.2, destination + (6 * i + 2) * pointStride)
            store(c.3, destination + (6 * i + 3) * pointStride)
            store(c.4, destination + (6 * i + 4) * pointStride)
            store(c.5, destination + (6 * i + 5) * pointStride)
          }
        }
      }
    }
  }

  /// `inputGradient[ci] += B dV Bᵀ` over the overlapping patches of one band (the adjoint of
  /// `transformInput`), keeping only positions inside the image.
  static func accumulateInputGradient(
    _ tiling: Tiling, _ dv: UnsafePointer<Float>, firstTileRow: Int, tileRows: Int,
    into inputGradient: UnsafeMutablePointer<Float>
  ) {
    let g = tiling.g
    let planeWidth = tiling.inputPlaneWidth
    let planeHeight = tileRows * 4 + 2
    let tileCount = tileRows * tiling.tilesX
    let pointStride = g.inChannels * tiling.bandStride
    let firstY = firstTileRow * 4 - g.paddingY
    ComputeThreads.parallelFor(g.inChannels) { ci in
      // 8 floats past the plane for the vector adds of the last patch row (which add zeros).
      ScratchPool.withBuffer(planeWidth * planeHeight + 36 * 8 + 8) { scratch in
        let plane = scratch + 36 * 8
        plane.update(repeating: 0, count: planeWidth * planeHeight + 8)
        let columns = UnsafeMutableRawPointer(scratch).bindMemory(to: Lanes.self, capacity: 36)
        for first in stride(from: 0, to: tileCount, by: 8) {
          let source = dv + ci * tiling.bandStride + first
          // B dV: along the rows of each point column.
          for j in 0..<6 {
            let r = inputRowsAdjoint(
              load(source + j * pointStride), load(source + (6 + j) * pointStride),
              load(source + (12 + j) * pointStride), load(source + (18 + j) * pointStride),
              load(source + (24 + j) * pointStride), load(source + (30 + j) * pointStride))
            columns[j] = r.0
            columns[6 + j] = r.1
            columns[12 + j] = r.2
            columns[18 + j] = r.3
            columns[24 + j] = r.4
            columns[30 + j] = r.5
          }
          // (B dV) Bᵀ, added into the overlapping patches of the band's plane.
          let corners = tiling.corners(first: first, tileCount: tileCount, planeWidth: planeWidth)
          let lanes = min(8, tileCount - first)
          let contiguous = corners[7] == corners[0] + 28
          for i in 0..<6 {
            let d = inputRowsAdjoint(
              columns[6 * i], columns[6 * i + 1], columns[6 * i + 2], columns[6 * i + 3],
              columns[6 * i + 4], columns[6 * i + 5])
            let rowStart = plane + i * planeWidth
            if contiguous {
              // Eight neighbouring patches of one row: columns 0–3 of patch l are the 32
              // floats from the first corner, columns 4–5 overlap the next patch's 0–1.
              addInterleaved(d.0, d.1, d.2, d.3, to: rowStart + corners[0])
              let zero = Lanes(repeating: 0)
              addInterleaved(d.4, d.5, zero, zero, to: rowStart + corners[0] + 4)
              continue
            }
            for lane in 0..<lanes {
              let target = rowStart + corners[lane]
              target[0] += d.0[lane]
              target[1] += d.1[lane]
              target[2] += d.2[lane]
              target[3] += d.3[lane]
              target[4] += d.4[lane]
              target[5] += d.5[lane]
            }
          }
        }
        // Back into the image: the plane's (row, column) is input (firstY + row, column − p).
        let channel = inputGradient + ci * g.height * g.width
        let firstColumn = g.paddingX
        let columnCount = min(g.width, planeWidth - firstColumn)
        for row in 0..<planeHeight {
          let y = firstY + row
          if y < 0 || y >= g.height || columnCount <= 0 { continue }
          let source = plane + row * planeWidth + firstColumn
          let target = channel + y * g.width
          for x in 0..<columnCount { target[x] += source[x] }
        }
      }
    }
  }

  /// `U[ξ, co, ci] = (G g Gᵀ)[ξ]` for weight `[Cout, Cin, 3, 3]`; U is `[36, Cout, Cin]`, or
  /// `[36, Cin, Cout]` (each point's matrix transposed) when `transposed`.
  static func transformWeight(
    _ g: ConvolutionGeometry, weight: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>,
    transposed: Bool = false
  ) {
    let pointStride = g.outChannels * g.inChannels
    // Rows of U's point matrices, and the channel that runs along them (one per SIMD lane).
    let (rows, columns) = transposed ? (g.inChannels, g.outChannels) : (g.outChannels, g.inChannels)
    // From one lane's kernel to the next one's: the next input channel or the next output one.
    let laneStride = transposed ? g.inChannels * 9 : 9
    let rowStride = transposed ? 9 : g.inChannels * 9
    // A block of rows is transformed into a staging buffer that stays in cache (about 128 KiB),
    // then copied out point by point: written straight into U, the 36 points' rows were 36
    // write streams at once, which the prefetchers do not follow (every line a cache miss).
    let blockRows = max(1, min(rows, (1 << 15) / (36 * columns)))
    let blocks = (rows + blockRows - 1) / blockRows
    ComputeThreads.parallelFor(blocks) { block in
      let firstRow = block * blockRows
      let rowCount = min(blockRows, rows - firstRow)
      let stagedPointStride = rowCount * columns
      ScratchPool.withBuffer(36 * stagedPointStride) { staged in
        withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 18) { partial in
          for row in firstRow..<(firstRow + rowCount) {
            for first in stride(from: 0, to: columns, by: 8) {
              transformKernels(
                weight + row * rowStride + first * laneStride, laneStride: laneStride,
                lanes: min(8, columns - first), partial: partial.baseAddress!,
                into: staged + (row - firstRow) * columns + first, pointStride: stagedPointStride)
            }
          }
        }
        for point in 0..<36 {
          (u + point * pointStride + firstRow * columns).update(
            from: staged + point * stagedPointStride, count: stagedPointStride)
        }
      }
    }
  }

  /// `G g Gᵀ` of up to eight 3×3 kernels side by side (one SIMD lane each, the kernels
  /// `laneStride` floats apart), the 36 points written `pointStride` apart from `destination`.
  @inline(__always)
  static func transformKernels(
    _ kernels: UnsafePointer<Float>, laneStride: Int, lanes: Int,
    partial: UnsafeMutablePointer<Lanes>, into destination: UnsafeMutablePointer<Float>,
    pointStride: Int
  ) {
    @inline(__always)
    func tap(_ index: Int) -> Lanes {
      let k = kernels + index
      if lanes == 8 {
        return Lanes(
          k[0], k[laneStride], k[2 * laneStride], k[3 * laneStride], k[4 * laneStride],
          k[5 * laneStride], k[6 * laneStride], k[7 * laneStride])
      }
      var value = Lanes(repeating: 0)
      for lane in 0..<lanes { value[lane] = k[lane * laneStride] }
      return value
    }
    // G g: along the rows of each kernel column.
    for b in 0..<3 {
      let r = weightRows(tap(b), tap(3 + b), tap(6 + b))
      partial[b] = r.0
      partial[3 + b] = r.1
      partial[6 + b] = r.2
      partial[9 + b] = r.3
      partial[12 + b] = r.4
      partial[15 + b] = r.5
    }
    // (G g) Gᵀ: along each row.
    for i in 0..<6 {
      let c = weightRows(partial[3 * i], partial[3 * i + 1], partial[3 * i + 2])
      let point = destination + 6 * i * pointStride
      if lanes == 8 {
        store(c.0, point)
        store(c.1, point + pointStride)
        store(c.2, point + 2 * pointStride)
        store(c.3, point + 3 * pointStride)
        store(c.4, point + 4 * pointStride)
        store(c.5, point + 5 * pointStride)
      } else {
        for lane in 0..<lanes {
          point[lane] = c.0[lane]
          point[pointStride + lane] = c.1[lane]
          point[2 * pointStride + lane] = c.2[lane]
          point[3 * pointStride + lane] = c.3[lane]
          point[4 * pointStride + lane] = c.4[lane]
          point[5 * pointStride + lane] = c.5[lane]
        }
      }
    }
  }

  /// `weightGradient[co, ci] = Gᵀ dU G` for dU `[36, Cout, Cin]` (the adjoint of
  /// `transformWeight`); the weight gradient is `[Cout, Cin, 3, 3]`.
  static func transformWeightGradient(
    _ g: ConvolutionGeometry, _ du: UnsafePointer<Float>,
    into weightGradient: UnsafeMutablePointer<Float>
  ) {
    let pointStride = g.outChannels * g.inChannels
    // A block of output channels is first copied point by point into a staging buffer that
    // stays in cache (about 128 KiB): read straight from dU, the 36 points were 36 read streams
    // at once, which the prefetchers do not follow.
    let blockRows = max(1, min(g.outChannels, (1 << 15) / (36 * g.inChannels)))
    let blocks = (g.outChannels + blockRows - 1) / blockRows
    ComputeThreads.parallelFor(blocks) { block in
      let firstRow = block * blockRows
      let rowCount = min(blockRows, g.outChannels - firstRow)
      let stagedPointStride = rowCount * g.inChannels
      ScratchPool.withBuffer(36 * stagedPointStride) { staged in
        for point in 0..<36 {
          (staged + point * stagedPointStride).update(
            from: du + point * pointStride + firstRow * g.inChannels, count: stagedPointStride)
        }
        withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 18) { columns in
          for co in firstRow..<(firstRow + rowCount) {
            for first in stride(from: 0, to: g.inChannels, by: 8) {
              transformKernelGradients(
                staged + (co - firstRow) * g.inChannels + first, pointStride: stagedPointStride,
                lanes: min(8, g.inChannels - first), columns: columns.baseAddress!,
                into: weightGradient + (co * g.inChannels + first) * 9)
            }
          }
        }
      }
    }
  }

  /// `Gᵀ dU G` of up to eight kernels side by side (one SIMD lane each), the 36 points read
  /// `pointStride` apart from `source`, written as consecutive 3×3 kernels at `kernels`.
  @inline(__always)
  static func transformKernelGradients(
    _ source: UnsafePointer<Float>, pointStride: Int, lanes: Int,
    columns: UnsafeMutablePointer<Lanes>, into kernels: UnsafeMutablePointer<Float>
  ) {
    @inline(__always)
    func point(_ index: Int) -> Lanes {
      let start = source + index * pointStride
      if lanes == 8 { return load(start) }
      var value = Lanes(repeating: 0)
      for lane in 0..<lanes { value[lane] = start[lane] }
      return value
    }
    // Gᵀ dU: along the rows of each point column.
    for j in 0..<6 {
      let r = weightRowsAdjoint(
        point(j), point(6 + j), point(12 + j), point(18 + j), point(24 + j), point(30 + j))
      columns[j] = r.0
      columns[6 + j] = r.1
      columns[12 + j] = r.2
    }
    // (Gᵀ dU) G: along each row, scattered into the 3×3 kernels.
    for a in 0..<3 {
      let k = weightRowsAdjoint(
        columns[6 * a], columns[6 * a + 1], columns[6 * a + 2], columns[6 * a + 3],
        columns[6 * a + 4], columns[6 * a + 5])
      for lane in 0..<lanes {
        kernels[lane * 9 + a * 3] = k.0[lane]
        kernels[lane * 9 + a * 3 + 1] = k.1[lane]
        kernels[lane * 9 + a * 3 + 2] = k.2[lane]
      }
    }
  }

  // MARK: - One-dimensional transforms on eight tiles at once

  /// `Bᵀ d` for one patch column (or row) `d0 … d5`.
  @inline(__always)
  static func inputRows(
    _ d0: Lanes, _ d1: Lanes, _ d2: Lanes, _ d3: Lanes, _ d4: Lanes, _ d5: Lanes
  ) -> (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes) {
    let r0 = 4 * d0 - 5 * d2 + d4
    let r1 = d3 + d4 - 4 * (d1 + d2)
    let r2 = d4 - d3 + 4 * (d1 - d2)
    let r3 = d4 - d2 + 2 * (d3 - d1)
    let r4 = d4 - d2 + 2 * (d1 - d3)
    let r5 = 4 * d1 - 5 * d3 + d5
    return (r0, r1, r2, r3, r4, r5)
  }

  /// `B x`, the adjoint of `inputRows`.
  @inline(__always)
  static func inputRowsAdjoint(
    _ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes, _ x4: Lanes, _ x5: Lanes
  ) -> (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes) {
    let e0 = 4 * x0
    let e1 = 4 * (x2 - x1 + x5) + 2 * (x4 - x3)
    let e2 = -5 * x0 - 4 * (x1 + x2) - x3 - x4
    let e3 = x1 - x2 + 2 * (x3 - x4) - 5 * x5
    let e4 = x0 + x1 + x2 + x3 + x4
    return (e0, e1, e2, e3, e4, x5)
  }

  /// `Aᵀ m` for one point column (or row) `m0 … m5`.
  @inline(__always)
  static func outputRows(
    _ m0: Lanes, _ m1: Lanes, _ m2: Lanes, _ m3: Lanes, _ m4: Lanes, _ m5: Lanes
  ) -> (Lanes, Lanes, Lanes, Lanes) {
    let sum12 = m1 + m2
    let difference12 = m1 - m2
    let sum34 = m3 + m4
    let difference34 = m3 - m4
    return (
      m0 + sum12 + sum34, difference12 + 2 * difference34, sum12 + 4 * sum34,
      difference12 + 8 * difference34 + m5
    )
  }

  /// `A y`, the adjoint of `outputRows`.
  @inline(__always)
  static func outputRowsAdjoint(
    _ y0: Lanes, _ y1: Lanes, _ y2: Lanes, _ y3: Lanes
  ) -> (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes) {
    let even = y0 + y2
    let odd = y1 + y3
    let evenScaled = y0 + 4 * y2
    let oddScaled = 2 * y1 + 8 * y3
    return (y0, even + odd, even - odd, evenScaled + oddScaled, evenScaled - oddScaled, y3)
  }

  /// `G g` for one kernel column (or row) `g0 … g2`.
  @inline(__always)
  static func weightRows(_ g0: Lanes, _ g1: Lanes, _ g2: Lanes) -> (
    Lanes, Lanes, Lanes, Lanes, Lanes, Lanes
  ) {
    // Multiplications by the reciprocals (vector division is several times slower).
    let outer = g0 + g2
    let near = g0 * (1 / 24) + g2 * (1 / 6)
    let g1Twelfth = g1 * (1 / 12)
    return (
      g0 * 0.25, (outer + g1) * (-1 / 6), (outer - g1) * (-1 / 6), near + g1Twelfth,
      near - g1Twelfth, g2
    )
  }

  /// `Gᵀ u`, the adjoint of `weightRows`.
  @inline(__always)
  static func weightRowsAdjoint(
    _ u0: Lanes, _ u1: Lanes, _ u2: Lanes, _ u3: Lanes, _ u4: Lanes, _ u5: Lanes
  ) -> (Lanes, Lanes, Lanes) {
    let sum12 = u1 + u2
    let sum34 = u3 + u4
    let sum12Sixth = sum12 * (1 / 6)
    let g0 = u0 * 0.25 - sum12Sixth + sum34 * (1 / 24)
    let g1 = (u2 - u1) * (1 / 6) + (u3 - u4) * (1 / 12)
    let g2 = sum34 * (1 / 6) - sum12Sixth + u5
    return (g0, g1, g2)
  }

  // MARK: - Memory helpers

  @inline(__always)
  static func gather(_ base: UnsafePointer<Float>, _ offsets: SIMD8<Int>) -> Lanes {
    Lanes(
      base[offsets[0]], base[offsets[1]], base[offsets[2]], base[offsets[3]], base[offsets[4]],
      base[offsets[5]], base[offsets[6]], base[offsets[7]])
  }

  /// `base[offsets[l]]` for the eight lanes; when the offsets are `offsets[0] + 4·l` (eight
  /// neighbouring tiles of one tile row) from four vector loads of the 32 floats there, of
  /// which every fourth is kept. Reads up to 31 floats past `base + offsets[0]`.
  @inline(__always)
  static func gather(
    _ base: UnsafeMutablePointer<Float>, _ offsets: SIMD8<Int>, _ contiguous: Bool
  ) -> Lanes {
    if !contiguous { return gather(UnsafePointer(base), offsets) }
    let start = UnsafePointer(base + offsets[0])
    let low = SIMD16<Float>(lowHalf: load(start), highHalf: load(start + 8))
    let high = SIMD16<Float>(lowHalf: load(start + 16), highHalf: load(start + 24))
    return Lanes(lowHalf: low.evenHalf.evenHalf, highHalf: high.evenHalf.evenHalf)
  }

  /// The 32 floats `a[0], b[0], c[0], d[0], a[1], …, d[7]`, as four vectors.
  @inline(__always)
  static func interleaved(_ a: Lanes, _ b: Lanes, _ c: Lanes, _ d: Lanes) -> (
    Lanes, Lanes, Lanes, Lanes
  ) {
    (
      Lanes(a[0], b[0], c[0], d[0], a[1], b[1], c[1], d[1]),
      Lanes(a[2], b[2], c[2], d[2], a[3], b[3], c[3], d[3]),
      Lanes(a[4], b[4], c[4], d[4], a[5], b[5], c[5], d[5]),
      Lanes(a[6], b[6], c[6], d[6], a[7], b[7], c[7], d[7])
    )
  }

  /// Writes `interleaved(a, b, c, d)` to the 32 floats at `destination`.
  @inline(__always)
  static func storeInterleaved(
    _ a: Lanes, _ b: Lanes, _ c: Lanes, _ d: Lanes, to destination: UnsafeMutablePointer<Float>
  ) {
    let rows = interleaved(a, b, c, d)
    store(rows.0, destination)
    store(rows.1, destination + 8)
    store(rows.2, destination + 16)
    store(rows.3, destination + 24)
  }

  /// Adds `interleaved(a, b, c, d)` to the 32 floats at `destination`.
  @inline(__always)
  static func addInterleaved(
    _ a: Lanes, _ b: Lanes, _ c: Lanes, _ d: Lanes, to destination: UnsafeMutablePointer<Float>
  ) {
    let rows = interleaved(a, b, c, d)
    store(load(destination) + rows.0, destination)
    store(load(destination + 8) + rows.1, destination + 8)
    store(load(destination + 16) + rows.2, destination + 16)
    store(load(destination + 24) + rows.3, destination + 24)
  }

  @inline(__always)
  static func load(_ source: UnsafePointer<Float>) -> Lanes {
    UnsafeRawPointer(source).loadUnaligned(as: Lanes.self)
  }

  @inline(__always)
  static func store(_ value: Lanes, _ destination: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(destination).storeBytes(of: value, as: Lanes.self)
  }

  /// Copies input row `y` of one channel, columns `firstX ..< firstX + count`, with zeros
  /// outside the image.
  @inline(__always)
  static func copyPaddedRow(
    from channel: UnsafePointer<Float>, y: Int, firstX: Int, count: Int, g: ConvolutionGeometry,
    into target: UnsafeMutablePointer<Float>
  ) {
    if y < 0 || y >= g.height {
      target.update(repeating: 0, count: count)
      return
    }
    let lower = max(0, -firstX)
    let upper = min(count, g.width - firstX)
    target.update(repeating: 0, count: lower)
    if upper > lower {
      (target + lower).update(from: channel + y * g.width + firstX + lower, count: upper - lower)
      (target + upper).update(repeating: 0, count: count - upper)
    } else {
      (target + lower).update(repeating: 0, count: count - lower)
    }
  }
}
