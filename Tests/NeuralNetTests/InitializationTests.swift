/// Initialisers: the deviations torch.nn.init aims at (Fixtures/initializers.json), orthogonality,
/// zero biases, batch-norm weights, seeding.
import Foundation
import Testing

@testable import NeuralNet
@testable import Tensors

struct InitializersFixture: Decodable {
  struct Case: Decodable {
    var kind: String
    var shape: [Int]
    var fan_in: Int
    var fan_out: Int
    var normal_std: Double
    var xavier_std: Double
    var kaiming_std: Double
  }
  var gain: Float
  var cases: [Case]
}

/// A convolution (plain or transposed) with the fixture's weight shape.
func makeConvolution(kind: String, shape: [Int]) -> (layer: any Layer, weight: Parameter) {
  if kind == "conv" {
    let layer = Conv2d(inputChannels: shape[1], outputChannels: shape[0], kernelSize: shape[2])
    return (layer, layer.weight)
  }
  let layer = ConvTranspose2d(
    inputChannels: shape[0], outputChannels: shape[1], kernelSize: shape[2])
  return (layer, layer.weight)
}

@Suite struct InitializationTests {
  let fixture: InitializersFixture

  init() throws {
    fixture = try loadFixture("initializers.json", as: InitializersFixture.self)
  }

  @Test func fansFollowPyTorchsRule() {
    for testCase in fixture.cases {
      let (fanIn, fanOut) = fans(ofWeightShape: testCase.shape)
      #expect(fanIn == testCase.fan_in && fanOut == testCase.fan_out, "\(testCase.shape)")
    }
  }

  @Test(arguments: [InitializationScheme.normal, .xavier, .kaiming])
  func normalSchemesHitPyTorchsDeviationWithZeroBias(scheme: InitializationScheme) {
    var generator = RandomGenerator(seed: 11)
    for testCase in fixture.cases {
      let (layer, weight) = makeConvolution(kind: testCase.kind, shape: testCase.shape)
      Initialization(scheme: scheme, gain: fixture.gain).apply(to: layer, using: &generator)
      let expected =
        switch scheme {
        case .normal: testCase.normal_std
        case .xavier: testCase.xavier_std
        default: testCase.kaiming_std
        }
      let (mean, deviation) = meanAndDeviation(weight.value.scalars)
      // At least 8192 samples: the sample deviation is within 1% (one σ) of the true one.
      #expect(
        abs(deviation / expected - 1) < 0.05, "\(scheme) \(testCase.shape): \(deviation)")
      #expect(abs(mean) < 0.05 * expected, "\(scheme) \(testCase.shape): mean \(mean)")
      let bias = layer.namedParameters().first { $0.name == "bias" }?.parameter
      #expect(bias?.value.scalars.allSatisfy { $0 == 0 } == true)
    }
  }

  @Test func orthogonalRowsOrColumnsAreOrthonormalTimesGain() {
    var generator = RandomGenerator(seed: 5)
    for shape in [[16, 3, 3, 3], [64, 2, 2, 2], [1, 20, 4, 4], [12, 12]] {
      let gain: Float = 0.02
      let tensor = orthogonalTensor(shape: shape, gain: gain, using: &generator)
      let rows = shape[0]
      let columns = tensor.count / rows
      let values = tensor.scalars.map(Double.init)
      // Gram matrix of the shorter side.
      let byRows = rows <= columns
      let count = byRows ? rows : columns
      let length = byRows ? columns : rows
      func element(_ vector: Int, _ position: Int) -> Double {
        byRows ? values[vector * columns + position] : values[position * columns + vector]
      }
      var worst = 0.0
      for a in 0..<count {
        for b in 0..<count {
          var dot = 0.0
          for position in 0..<length { dot += element(a, position) * element(b, position) }
          let target = a == b ? Double(gain * gain) : 0
          worst = max(worst, abs(dot - target))
        }
      }
      #expect(worst < 1e-6 * Double(gain * gain) * 100, "\(shape): worst Gram error \(worst)")
    }
  }

  @Test func batchNormWeightsAreNormalAroundOneAndInstanceNormsAreUntouched() {
    let batchNorm = BatchNorm2d(channels: 20000)
    let instanceNorm = InstanceNorm2d(channels: 3, affine: true)
    let model = Sequential(batchNorm, instanceNorm)
    var generator = RandomGenerator(seed: 3)
    Initialization(scheme: .normal, gain: 0.02).apply(to: model, using: &generator)
    let (mean, deviation) = meanAndDeviation(batchNorm.weight.value.scalars)
    #expect(abs(mean - 1) < 0.001 && abs(deviation / 0.02 - 1) < 0.05, "\(mean), \(deviation)")
    #expect(batchNorm.bias.value.scalars.allSatisfy { $0 == 0 })
    #expect(instanceNorm.weight?.value.scalars == [1, 1, 1])
  }

  @Test func theSameSeedGivesTheSameWeightsAndAnotherSeedDifferentOnes() {
    func weights(seed: UInt64, scheme: InitializationScheme) -> [Float] {
      let layer = Conv2d(inputChannels: 4, outputChannels: 6, kernelSize: 3)
      var generator = RandomGenerator(seed: seed)
      Initialization(scheme: scheme).apply(to: layer, using: &generator)
      return layer.weight.value.scalars + (layer.bias?.value.scalars ?? [])
    }
    for scheme in InitializationScheme.allCases {
      #expect(weights(seed: 1, scheme: scheme) == weights(seed: 1, scheme: scheme))
      #expect(weights(seed: 1, scheme: scheme) != weights(seed: 2, scheme: scheme))
    }
    // PyTorch's default draws weights and biases in ±1/√fanIn.
    let bound = 1 / Float(4 * 9).squareRoot()
    #expect(weights(seed: 9, scheme: .pytorchDefault).allSatisfy { abs($0) <= bound })
  }
}
