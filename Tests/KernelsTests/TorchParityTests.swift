import Foundation
import Testing

@testable import Kernels

/// One case of `Fixtures/convolution.json` (written by `scripts/make_kernel_fixtures.py`).
struct TorchConvolutionCase: Decodable, Sendable, CustomTestStringConvertible {
  let name: String
  let transposed: Bool
  let batch, inChannels, outChannels, height, width: Int
  let kernel, stride, padding, outputPadding, outHeight, outWidth: Int
  /// Tensor name → `[offset, count]` in floats of `convolution.bin`.
  let tensors: [String: [Int]]

  var testDescription: String { name }

  var geometry: ConvolutionGeometry {
    ConvolutionGeometry(
      batch: batch, inChannels: inChannels, outChannels: outChannels, height: height,
      width: width, kernelHeight: kernel, kernelWidth: kernel, strideY: stride, strideX: stride,
      paddingY: padding, paddingX: padding, outputPaddingY: outputPadding,
      outputPaddingX: outputPadding, isTransposed: transposed)
  }
}

struct TorchConvolutionFixture: Decodable {
  let seed: Int
  let cases: [TorchConvolutionCase]
}

/// The fixture's manifest and its float32 little-endian data.
enum TorchFixtures {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

  static let convolutionCases: [TorchConvolutionCase] = {
    let url = directory.appendingPathComponent("convolution.json")
    guard let data = try? Data(contentsOf: url),
      let fixture = try? JSONDecoder().decode(TorchConvolutionFixture.self, from: data)
    else { return [] }
    return fixture.cases
  }()

  static let convolutionData: [Float] = {
    let url = directory.appendingPathComponent("convolution.bin")
    guard let data = try? Data(contentsOf: url) else { return [] }
    return data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map {
        Float(
          bitPattern: UInt32(
            littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
      }
    }
  }()

  /// The named tensor of `testCase`, or nil when the case has none (no bias).
  static func tensor(_ name: String, of testCase: TorchConvolutionCase) -> [Float]? {
    guard let span = testCase.tensors[name], span.count == 2,
      span[0] >= 0, span[0] + span[1] <= convolutionData.count
    else { return nil }
    return Array(convolutionData[span[0]..<(span[0] + span[1])])
  }
}

@Test("the convolution fixture is present and complete")
func convolutionFixtureLoads() {
  #expect(TorchFixtures.convolutionCases.count == 13)
  for testCase in TorchFixtures.convolutionCases {
    let g = testCase.geometry
    #expect(
      g.outHeight == testCase.outHeight && g.outWidth == testCase.outWidth, "\(testCase.name)")
    #expect(TorchFixtures.tensor("input", of: testCase)?.count == g.inputCount, "\(testCase.name)")
    #expect(
      TorchFixtures.tensor("output", of: testCase)?.count == g.outputCount, "\(testCase.name)")
  }
}

@Test(
  "fast and reference kernels match PyTorch, forward and every gradient",
  arguments: TorchFixtures.convolutionCases)
func kernelsMatchTorch(testCase: TorchConvolutionCase) throws {
  let g = testCase.geometry
  let input = try #require(TorchFixtures.tensor("input", of: testCase))
  let weight = try #require(TorchFixtures.tensor("weight", of: testCase))
  let outputGradient = try #require(TorchFixtures.tensor("outputGradient", of: testCase))
  let bias = TorchFixtures.tensor("bias", of: testCase)
  try #require(input.count == g.inputCount && weight.count == g.weightCount)
  try #require(outputGradient.count == g.outputCount)

  let implementations: [(String, ConvolutionPasses)] =
    testCase.transposed
    ? [("fast", .fastTransposed), ("reference", .referenceTransposed)]
    : [("fast", .fast), ("reference", .reference)]
  for (label, passes) in implementations {
    var output = [Float](repeating: .nan, count: g.outputCount)
    var inputGradient = [Float](repeating: .nan, count: g.inputCount)
    var weightGradient = [Float](repeating: .nan, count: g.weightCount)
    var biasGradient = [Float](repeating: .nan, count: g.outChannels)
    if let bias {
      passes.forward(g, input, weight, bias, &output)
    } else {
      passes.forward(g, input, weight, nil, &output)
    }
    passes.backwardInput(g, outputGradient, weight, &inputGradient)
    if bias != nil {
      passes.backwardWeight(g, input, outputGradient, &weightGradient, &biasGradient)
    } else {
      passes.backwardWeight(g, input, outputGradient, &weightGradient, nil)
    }

    let what = "\(label) \(testCase.name)"
    let expected = { (name: String) in TorchFixtures.tensor(name, of: testCase) ?? [] }
    // Winograd rounds in proportion to the size of the whole sum (see KernelsTests.compare).
    let winograd = label == "fast" && Winograd.supports(g)
    func tolerance(_ base: Float, _ values: [Float]) -> (rtol: Float, atol: Float) {
      winograd ? (1e-4, 1e-4 * max(1, rootMeanSquare(values))) : (1e-5, base)
    }
    let outputTolerance = tolerance(1e-5, expected("output"))
    expectClose(
      output, expected("output"), rtol: outputTolerance.rtol, atol: outputTolerance.atol,
      "output, \(what)")
    let inputTolerance = tolerance(1e-5, expected("inputGradient"))
    expectClose(
      inputGradient, expected("inputGradient"), rtol: inputTolerance.rtol,
      atol: inputTolerance.atol, "input gradient, \(what)")
    let weightTolerance = tolerance(1e-4, expected("weightGradient"))
    expectClose(
      weightGradient, expected("weightGradient"), rtol: weightTolerance.rtol,
      atol: weightTolerance.atol, "weight gradient, \(what)")
    if bias != nil {
      expectClose(
        biasGradient, expected("biasGradient"), rtol: 1e-5, atol: 1e-4, "bias gradient, \(what)")
    }
  }
}
