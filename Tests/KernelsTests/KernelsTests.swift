import Testing

@testable import Kernels

/// Geometries that exercise every branch of the banded im2col: odd sizes, stride 2, channel
/// counts that are not multiples of 8, 1×1, 3×3, 4×4 and 7×7 kernels, padding past the
/// kernel's reach.
let plainGeometries: [ConvolutionGeometry] = [
  ConvolutionGeometry(
    batch: 2, inChannels: 3, outChannels: 5, height: 9, width: 11, kernelHeight: 3,
    kernelWidth: 3, paddingY: 1, paddingX: 1),
  ConvolutionGeometry(
    batch: 1, inChannels: 3, outChannels: 6, height: 13, width: 12, kernelHeight: 7,
    kernelWidth: 7, paddingY: 3, paddingX: 3),
  ConvolutionGeometry(
    batch: 2, inChannels: 5, outChannels: 7, height: 11, width: 10, kernelHeight: 3,
    kernelWidth: 3, strideY: 2, strideX: 2, paddingY: 1, paddingX: 1),
  ConvolutionGeometry(
    batch: 1, inChannels: 6, outChannels: 1, height: 10, width: 9, kernelHeight: 4,
    kernelWidth: 4, strideY: 2, strideX: 2, paddingY: 1, paddingX: 1),
  ConvolutionGeometry(
    batch: 1, inChannels: 4, outChannels: 3, height: 7, width: 8, kernelHeight: 4,
    kernelWidth: 4, paddingY: 1, paddingX: 1),
  ConvolutionGeometry(
    batch: 2, inChannels: 9, outChannels: 4, height: 5, width: 6, kernelHeight: 1,
    kernelWidth: 1),
  ConvolutionGeometry(
    batch: 1, inChannels: 2, outChannels: 3, height: 6, width: 7, kernelHeight: 2,
    kernelWidth: 3, strideY: 1, strideX: 3, paddingY: 2, paddingX: 0),
  // Rows wide enough for the vector path of stride-2 im2col, odd and even widths.
  ConvolutionGeometry(
    batch: 1, inChannels: 3, outChannels: 4, height: 9, width: 41, kernelHeight: 3,
    kernelWidth: 3, strideY: 2, strideX: 2, paddingY: 1, paddingX: 1),
  ConvolutionGeometry(
    batch: 1, inChannels: 2, outChannels: 3, height: 8, width: 38, kernelHeight: 4,
    kernelWidth: 4, strideY: 2, strideX: 2, paddingY: 1, paddingX: 1),
  // Large enough for three bands of output rows (72·300 floats a row, 2²¹ a band).
  ConvolutionGeometry(
    batch: 1, inChannels: 8, outChannels: 2, height: 200, width: 300, kernelHeight: 3,
    kernelWidth: 3, paddingY: 1, paddingX: 1),
]

let transposedGeometries: [ConvolutionGeometry] = [
  ConvolutionGeometry(
    batch: 2, inChannels: 5, outChannels: 3, height: 6, width: 7, kernelHeight: 3,
    kernelWidth: 3, strideY: 2, strideX: 2, paddingY: 1, paddingX: 1, outputPaddingY: 1,
    outputPaddingX: 1, isTransposed: true),
  ConvolutionGeometry(
    batch: 1, inChannels: 3, outChannels: 7, height: 5, width: 4, kernelHeight: 4,
    kernelWidth: 4, strideY: 2, strideX: 2, paddingY: 1, paddingX: 1, isTransposed: true),
  ConvolutionGeometry(
    batch: 1, inChannels: 4, outChannels: 2, height: 5, width: 6, kernelHeight: 3,
    kernelWidth: 3, paddingY: 1, paddingX: 1, isTransposed: true),
  ConvolutionGeometry(
    batch: 2, inChannels: 3, outChannels: 2, height: 4, width: 3, kernelHeight: 1,
    kernelWidth: 1, isTransposed: true),
  // The adjoint convolution runs in two bands (16·4·4·150 floats a row).
  ConvolutionGeometry(
    batch: 1, inChannels: 2, outChannels: 16, height: 100, width: 150, kernelHeight: 4,
    kernelWidth: 4, strideY: 2, strideX: 2, paddingY: 1, paddingX: 1, isTransposed: true),
]

/// The three passes of one kernel over arrays, so that fast and reference compare alike.
struct ConvolutionPasses: Sendable {
  var forward:
    @Sendable (
      ConvolutionGeometry, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>?,
      UnsafeMutablePointer<Float>
    ) -> Void
  var backwardInput:
    @Sendable (
      ConvolutionGeometry, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>
    )
      -> Void
  var backwardWeight:
    @Sendable (
      ConvolutionGeometry, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
      UnsafeMutablePointer<Float>?
    ) -> Void

  static let fast = ConvolutionPasses(
    forward: { Convolution.forward($0, input: $1, weight: $2, bias: $3, output: $4) },
    backwardInput: {
      Convolution.backwardInput($0, outputGradient: $1, weight: $2, inputGradient: $3)
    },
    backwardWeight: {
      Convolution.backwardWeight(
        $0, input: $1, outputGradient: $2, weightGradient: $3, biasGradient: $4)
    })
  static let im2col = ConvolutionPasses(
    forward: { g, input, weight, bias, output in
      ConvolutionCore.forward(g, input: input, weight: weight, output: output, allowWinograd: false)
      if let bias {
        ConvolutionCore.addBias(
          bias, to: output, batch: g.batch, g.outChannels, g.outHeight * g.outWidth)
      }
    },
    backwardInput: {
      ConvolutionCore.backwardInput(
        $0, outputGradient: $1, weight: $2, inputGradient: $3, allowWinograd: false)
    },
    backwardWeight: { g, input, outputGradient, weightGradient, biasGradient in
      ConvolutionCore.backwardWeight(
        g, input: input, outputGradient: outputGradient, weightGradient: weightGradient,
        allowWinograd: false)
      if let biasGradient {
        ConvolutionCore.sumPlanes(
          outputGradient, into: biasGradient, batch: g.batch, g.outChannels,
          g.outHeight * g.outWidth)
      }
    })
  static let reference = ConvolutionPasses(
    forward: { ReferenceConvolution.forward($0, input: $1, weight: $2, bias: $3, output: $4) },
    backwardInput: {
      ReferenceConvolution.backwardInput($0, outputGradient: $1, weight: $2, inputGradient: $3)
    },
    backwardWeight: {
      ReferenceConvolution.backwardWeight(
        $0, input: $1, outputGradient: $2, weightGradient: $3, biasGradient: $4)
    })
  static let fastTransposed = ConvolutionPasses(
    forward: { TransposedConvolution.forward($0, input: $1, weight: $2, bias: $3, output: $4) },
    backwardInput: {
      TransposedConvolution.backwardInput($0, outputGradient: $1, weight: $2, inputGradient: $3)
    },
    backwardWeight: {
      TransposedConvolution.backwardWeight(
        $0, input: $1, outputGradient: $2, weightGradient: $3, biasGradient: $4)
    })
  static let referenceTransposed = ConvolutionPasses(
    forward: {
      ReferenceTransposedConvolution.forward($0, input: $1, weight: $2, bias: $3, output: $4)
    },
    backwardInput: {
      ReferenceTransposedConvolution.backwardInput(
        $0, outputGradient: $1, weight: $2, inputGradient: $3)
    },
    backwardWeight: {
      ReferenceTransposedConvolution.backwardWeight(
        $0, input: $1, outputGradient: $2, weightGradient: $3, biasGradient: $4)
    })

  /// Output, input gradient, weight gradient and bias gradient for the given data. Outputs
  /// start filled with NaN so that a pass that fails to overwrite shows up.
  func run(
    _ g: ConvolutionGeometry, input: [Float], weight: [Float], bias: [Float],
    outputGradient: [Float]
  ) -> (output: [Float], inputGradient: [Float], weightGradient: [Float], biasGradient: [Float]) {
    var output = [Float](repeating: .nan, count: g.outputCount)
    var inputGradient = [Float](repeating: .nan, count: g.inputCount)
    var weightGradient = [Float](repeating: .nan, count: g.weightCount)
    var biasGradient = [Float](repeating: .nan, count: g.outChannels)
    forward(g, input, weight, bias, &output)
    backwardInput(g, outputGradient, weight, &inputGradient)
    backwardWeight(g, input, outputGradient, &weightGradient, &biasGradient)
    return (output, inputGradient, weightGradient, biasGradient)
  }
}

/// Runs `fast` and `reference` on the same random data and compares all four results.
func compare(
  _ g: ConvolutionGeometry, fast: ConvolutionPasses, reference: ConvolutionPasses, seed: UInt64,
  tolerance: Float = 1e-4, scaledByRootMeanSquare: Bool = false
) {
  var random = TestRandom(seed: seed)
  let input = random.uniform(g.inputCount)
  let weight = random.uniform(g.weightCount)
  let bias = random.uniform(g.outChannels)
  let outputGradient = random.uniform(g.outputCount)
  let actual = fast.run(
    g, input: input, weight: weight, bias: bias, outputGradient: outputGradient)
  let expected = reference.run(
    g, input: input, weight: weight, bias: bias, outputGradient: outputGradient)
  let name = "\(g)"
  let checks: [(String, [Float], [Float])] = [
    ("output", actual.output, expected.output),
    ("input gradient", actual.inputGradient, expected.inputGradient),
    ("weight gradient", actual.weightGradient, expected.weightGradient),
    ("bias gradient", actual.biasGradient, expected.biasGradient),
  ]
  for (what, actualValues, expectedValues) in checks {
    // Winograd's rounding follows the size of the whole sum, not of each (possibly cancelled)
    // element, so its absolute tolerance is relative to the result's root mean square.
    let scale = scaledByRootMeanSquare ? max(1, rootMeanSquare(expectedValues)) : 1
    expectClose(
      actualValues, expectedValues, rtol: tolerance, atol: tolerance * scale,
      "\(what) of \(name)")
  }
}

func rootMeanSquare(_ values: [Float]) -> Float {
  guard !values.isEmpty else { return 0 }
  let sum = values.reduce(0.0) { $0 + Double($1) * Double($1) }
  return Float((sum / Double(values.count)).squareRoot())
}

@Test("fast convolution matches the nested-loop reference", arguments: plainGeometries.indices)
func convolutionMatchesReference(index: Int) {
  compare(
    plainGeometries[index], fast: .fast, reference: .reference, seed: UInt64(10 + index))
}

@Test(
  "fast transposed convolution matches the nested-loop reference",
  arguments: transposedGeometries.indices)
func transposedConvolutionMatchesReference(index: Int) {
  compare(
    transposedGeometries[index], fast: .fastTransposed, reference: .referenceTransposed,
    seed: UInt64(20 + index))
}

@Test("banded im2col gives the same result as one band")
func bandsAgreeWithOneBand() {
  // 40 rows of 3·7·7·40 floats: a budget of two rows forces 20 bands.
  let g = ConvolutionGeometry(
    batch: 1, inChannels: 3, outChannels: 4, height: 40, width: 40, kernelHeight: 7,
    kernelWidth: 7, paddingY: 3, paddingX: 3)
  #expect(ColumnMatrix.rowsPerBand(g, budget: 2 * 3 * 49 * 40) == 2)
  #expect(ColumnMatrix.rowsPerBand(g) == 40)
  var random = TestRandom(seed: 3)
  let input = random.uniform(g.inputCount)
  var whole = [Float](repeating: 0, count: 3 * 49 * 40 * 40)
  var banded = [Float](repeating: 0, count: 3 * 49 * 40 * 2)
  ColumnMatrix.build(g, image: input, firstRow: 0, rowCount: 40, columns: &whole)
  var mismatches = 0
  for firstRow in stride(from: 0, to: 40, by: 2) {
    ColumnMatrix.build(g, image: input, firstRow: firstRow, rowCount: 2, columns: &banded)
    for row in 0..<(3 * 49) {
      for column in 0..<(2 * 40)
      where banded[row * 80 + column] != whole[row * 1600 + firstRow * 40 + column] {
        mismatches += 1
      }
    }
  }
  #expect(mismatches == 0, "\(mismatches) column entries differ between banded and whole")
}

@Test("thread budget is positive and settable")
func threadBudget() {
  let original = ComputeThreads.threadCount
  #expect(original >= 1)
  ComputeThreads.setThreadCount(1)
  #expect(ComputeThreads.threadCount == 1)
  ComputeThreads.setThreadCount(original)
  #expect(ComputeThreads.threadCount == original)
}

/// 3×3 stride-1 geometries for the Winograd path: odd sizes (partial tiles), padding 0, 1 and
/// 2, channel counts that are not multiples of 8, a batch of 2, several bands of tile rows.
let winogradGeometries: [ConvolutionGeometry] = [
  ConvolutionGeometry(
    batch: 1, inChannels: 16, outChannels: 16, height: 8, width: 8, kernelHeight: 3,
    kernelWidth: 3, paddingY: 1, paddingX: 1),
  ConvolutionGeometry(
    batch: 2, inChannels: 19, outChannels: 21, height: 11, width: 13, kernelHeight: 3,
    kernelWidth: 3, paddingY: 1, paddingX: 1),
  ConvolutionGeometry(
    batch: 1, inChannels: 24, outChannels: 17, height: 15, width: 10, kernelHeight: 3,
    kernelWidth: 3),
  ConvolutionGeometry(
    batch: 1, inChannels: 17, outChannels: 32, height: 9, width: 7, kernelHeight: 3,
    kernelWidth: 3, paddingY: 2, paddingX: 2),
  ConvolutionGeometry(
    batch: 1, inChannels: 64, outChannels: 40, height: 18, width: 18, kernelHeight: 3,
    kernelWidth: 3),
  // Rows of 8 and 16 tiles: groups of eight neighbouring tiles take the vector paths of the
  // transforms; with a batch and a partial last tile row.
  ConvolutionGeometry(
    batch: 1, inChannels: 24, outChannels: 16, height: 10, width: 34, kernelHeight: 3,
    kernelWidth: 3),
  ConvolutionGeometry(
    batch: 2, inChannels: 16, outChannels: 24, height: 18, width: 64, kernelHeight: 3,
    kernelWidth: 3, paddingY: 1, paddingX: 1),
  // As many channels as a residual block of the generator (the rounding of the transforms
  // grows with the channel count).
  ConvolutionGeometry(
    batch: 1, inChannels: 256, outChannels: 256, height: 10, width: 10, kernelHeight: 3,
    kernelWidth: 3),
]

@Test("Winograd F(4,3) is chosen for 3×3 stride-1 and not for others")
func winogradSelection() {
  #expect(winogradGeometries.allSatisfy(Winograd.supports))
  #expect(!plainGeometries.contains(where: Winograd.supports))
  // Many tile rows of many channels: the band is smaller than the image.
  let large = ConvolutionGeometry(
    batch: 1, inChannels: 256, outChannels: 256, height: 402, width: 402, kernelHeight: 3,
    kernelWidth: 3)
  let tiling = Winograd.Tiling(large)
  #expect(tiling.bandTileRows < tiling.tilesY)
  #expect(
    tiling.transformedCount(256) <= 36 * 256 * 8 * ((tiling.tilesX * tiling.bandTileRows + 7) / 8))
}

@Test(
  "Winograd convolution matches the nested-loop reference", arguments: winogradGeometries.indices)
func winogradMatchesReference(index: Int) {
  compare(
    winogradGeometries[index], fast: .fast, reference: .reference, seed: UInt64(30 + index),
    tolerance: 1e-4, scaledByRootMeanSquare: true)
}

@Test(
  "im2col handles 3×3 stride-1 geometries too (the fallback beside Winograd)",
  arguments: winogradGeometries.indices)
func im2colMatchesReferenceOnWinogradShapes(index: Int) {
  compare(
    winogradGeometries[index], fast: .im2col, reference: .reference, seed: UInt64(40 + index))
}

@Test("Winograd works in bands of tile rows")
func winogradBands() {
  let g = ConvolutionGeometry(
    batch: 1, inChannels: 16, outChannels: 16, height: 30, width: 22, kernelHeight: 3,
    kernelWidth: 3, paddingY: 1, paddingX: 1)
  let banded = Winograd.Tiling(g, budget: 36 * 16 * 6 * 2)
  #expect(banded.bandTileRows == 2 && banded.tilesY == 8)
  compare(
    g, fast: .fast, reference: .reference, seed: 50, tolerance: 1e-4, scaledByRootMeanSquare: true)
}

/// Few output channels: the direct narrow path (stride 1, no padding) and the input gradient
/// through the flipped kernel (also with padding), with tails of fewer than eight columns.
let narrowGeometries: [ConvolutionGeometry] = [
  ConvolutionGeometry(
    batch: 1, inChannels: 16, outChannels: 3, height: 20, width: 21, kernelHeight: 7,
    kernelWidth: 7),
  ConvolutionGeometry(
    batch: 2, inChannels: 10, outChannels: 1, height: 12, width: 13, kernelHeight: 4,
    kernelWidth: 4),
  ConvolutionGeometry(
    batch: 1, inChannels: 17, outChannels: 2, height: 11, width: 18, kernelHeight: 3,
    kernelWidth: 3),
  ConvolutionGeometry(
    batch: 1, inChannels: 17, outChannels: 4, height: 10, width: 24, kernelHeight: 3,
    kernelWidth: 2),
  ConvolutionGeometry(
    batch: 1, inChannels: 12, outChannels: 3, height: 9, width: 10, kernelHeight: 5,
    kernelWidth: 5, paddingY: 2, paddingX: 2),
  ConvolutionGeometry(
    batch: 1, inChannels: 20, outChannels: 1, height: 8, width: 9, kernelHeight: 4,
    kernelWidth: 4, paddingY: 1, paddingX: 1),
]

@Test("narrow convolutions match the nested-loop reference", arguments: narrowGeometries.indices)
func narrowMatchesReference(index: Int) {
  let g = narrowGeometries[index]
  #expect(NarrowConvolution.supports(g) == (g.paddingY == 0))
  #expect(ConvolutionCore.prefersFlippedKernel(g))
  compare(g, fast: .fast, reference: .reference, seed: UInt64(60 + index))
}
