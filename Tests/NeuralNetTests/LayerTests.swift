/// Layers, naming and modes against PyTorch (Fixtures/layers.json).
import Foundation
import Testing

@testable import NeuralNet
@testable import Tensors

struct LayersFixture: Decodable {
  var keys: [String]
  var state: [String: FixtureTensor]
  var input: FixtureTensor
  var train_output_before_dropout: FixtureTensor
  var buffers_after_train: [String: FixtureTensor]
  var eval_output: FixtureTensor
}

/// The Sequential of scripts/make_nn_fixtures.py's `layers()`, layer for layer.
func makeFixtureSequential() -> Sequential {
  Sequential(
    Pad2d(.reflection, padding: 1),
    Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3),
    BatchNorm2d(channels: 4),
    LeakyReLU(slope: 0.2),
    Pad2d(.replication, left: 1, right: 2, top: 0, bottom: 1),
    Conv2d(
      inputChannels: 4, outputChannels: 5, kernelSize: 3, stride: 2, padding: 1, hasBias: false),
    InstanceNorm2d(channels: 5, affine: true),
    ReLU(),
    Pad2d(.zero, left: 2, right: 1, top: 1, bottom: 0),
    ConvTranspose2d(
      inputChannels: 5, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1,
      outputPadding: 1),
    InstanceNorm2d(channels: 3),
    Tanh(),
    Upsample(scale: 2, mode: .nearest),
    Conv2d(inputChannels: 3, outputChannels: 2, kernelSize: 1),
    Upsample(scale: 2, mode: .bilinear),
    Sigmoid(),
    Dropout(probability: 0.5, seed: 1))
}

@Suite struct LayerTests {
  let fixture: LayersFixture

  init() throws {
    fixture = try loadFixture("layers.json", as: LayersFixture.self)
  }

  @Test func stateDictionaryKeysAndShapesMatchPyTorch() {
    let model = makeFixtureSequential()
    let entries = model.stateDictionary()
    #expect(entries.map(\.name) == fixture.keys)
    for entry in entries {
      #expect(
        entry.value.shape == fixture.state[entry.name]?.shape,
        "\(entry.name): \(entry.value.shape) vs \(fixture.state[entry.name]?.shape ?? [])")
    }
    #expect(entries.filter(\.holdsInteger).map(\.name) == ["2.num_batches_tracked"])
    #expect(model.namedParameters().count == fixture.keys.count - 3)
  }

  @Test func forwardInTrainingAndEvaluationMatchesPyTorch() throws {
    let model = makeFixtureSequential()
    try model.loadStateDictionary(fixture.state.mapValues(\.tensor))
    let input = fixture.input.tensor

    // Training: batch statistics; the trailing dropout is switched off to compare before it.
    model.setTraining(true)
    model.layers[16].isTraining = false
    let trained = withoutGradients { model(input) }
    expectClose(
      trained, fixture.train_output_before_dropout.tensor, rtol: 1e-4, atol: 1e-5,
      "training forward")
    let buffers = Dictionary(
      uniqueKeysWithValues: model.namedBuffers().map {
        ($0.name, $0.buffer.value)
      })
    for (name, expected) in fixture.buffers_after_train {
      guard let actual = buffers[name] else {
        Issue.record("buffer \(name) missing")
        continue
      }
      expectClose(actual, expected.tensor, rtol: 1e-5, atol: 1e-6, name)
    }

    // Evaluation: running statistics, dropout is the identity.
    model.setTraining(false)
    #expect(model.layers.allSatisfy { !$0.isTraining })
    let evaluated = withoutGradients { model(input) }
    expectClose(evaluated, fixture.eval_output.tensor, rtol: 1e-4, atol: 1e-5, "eval forward")
  }

  @Test func loadingRejectsMissingUnexpectedAndMisshapenKeysAndChangesNothing() throws {
    let model = makeFixtureSequential()
    var tensors = fixture.state.mapValues(\.tensor)
    tensors["1.bias"] = nil
    tensors["99.weight"] = Tensor(shape: [1])
    tensors["13.weight"] = Tensor(shape: [2, 3, 3, 3])
    let before = model.stateDictionary().map(\.value.scalars)
    do {
      try model.loadStateDictionary(tensors)
      Issue.record("a mismatched state dictionary loaded")
    } catch {
      #expect(error.missingKeys == ["1.bias"])
      #expect(error.unexpectedKeys == ["99.weight"])
      #expect(error.shapeMismatches.map(\.key) == ["13.weight"])
      #expect(error.description.contains("13.weight: expected [2, 3, 1, 1], found [2, 3, 3, 3]"))
    }
    #expect(model.stateDictionary().map(\.value.scalars) == before)

    // Keys named in `ignoring` are dropped silently.
    var extra = fixture.state.mapValues(\.tensor)
    extra["6.running_mean"] = Tensor(shape: [5])
    try model.loadStateDictionary(extra, ignoring: ["6.running_mean"])
  }

  @Test func parametersAreGradientLeavesThatKeepTheirIdentityWhenAssigned() {
    let convolution = Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1)
    let before = convolution.weight.value
    #expect(before.isGradientLeaf)
    convolution.weight.assign(Tensor(shape: [3, 2, 3, 3], repeating: 0.5))
    #expect(convolution.weight.value.isGradientLeaf)

    // A gradient reaches the parameter, and clearing removes it.
    let input = Tensor(shape: [1, 2, 4, 4], repeating: 1)
    convolution(input).sum().backward()
    let gradient = convolution.weight.gradient
    #expect(gradient?.shape == [3, 2, 3, 3])
    #expect(convolution.bias?.gradient?.scalars == [16, 16, 16])
    convolution.clearGradients()
    #expect(convolution.weight.gradient == nil)
  }

  @Test func frozenParametersGetNoGradientWhileTheInputGetsTheSameOne() {
    let network = Sequential(
      Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1),
      InstanceNorm2d(channels: 3, affine: true), LeakyReLU(slope: 0.2),
      Conv2d(inputChannels: 3, outputChannels: 1, kernelSize: 3, stride: 2))
    var random = RandomGenerator(seed: 11)
    Initialization().apply(to: network, using: &random)
    let values = Tensor.randomUniform(
      shape: [1, 2, 6, 6], lowerBound: -1, upperBound: 1, using: &random)

    // Unfrozen: the input and every parameter get a gradient.
    let input = values.requiringGradient()
    network(input).sum().backward()
    let inputGradient = input.gradient?.scalars
    #expect(network.parameters.allSatisfy { $0.gradient != nil })
    network.clearGradients()

    // Frozen: the same input gradient, no parameter gradient, and the flags come back after.
    let frozenInput = values.requiringGradient()
    network.withFrozenParameters {
      #expect(network.parameters.allSatisfy { !$0.requiresGradient && !$0.value.requiresGradient })
      network(frozenInput).sum().backward()
    }
    #expect(frozenInput.gradient?.scalars == inputGradient)
    #expect(network.parameters.allSatisfy { $0.gradient == nil && $0.requiresGradient })
    network(frozenInput).sum().backward()
    #expect(network.parameters.allSatisfy { $0.gradient != nil })
  }

  @Test func dropoutZeroesAboutHalfInTrainingAndIsTheIdentityInEvaluation() {
    let input = Tensor(shape: [4, 8, 16, 16], repeating: 1)
    let first = Dropout(probability: 0.5, seed: 7)
    let output = first(input).scalars
    let zeros = output.filter { $0 == 0 }.count
    #expect(output.allSatisfy { $0 == 0 || $0 == 2 })
    let fraction = Double(zeros) / Double(output.count)
    #expect(abs(fraction - 0.5) < 0.03, "zeroed fraction \(fraction)")

    // The same seed gives the same mask; evaluation passes the input through.
    #expect(Dropout(probability: 0.5, seed: 7)(input).scalars == output)
    first.isTraining = false
    #expect(first(input).scalars == input.scalars)
  }
}
