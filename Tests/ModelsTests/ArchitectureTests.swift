/// Network layouts against the reference's (Fixtures/architectures.json): state_dict keys in
/// order, shapes, parameter counts.
import Foundation
import Testing

@testable import Models
@testable import NeuralNet
@testable import Tensors

/// A network description as scripts/make_model_fixtures.py writes it.
struct FixtureNetworkConfiguration: Decodable {
  var kind: String
  var input_nc: Int
  var output_nc: Int?
  var ngf: Int?
  var n_blocks: Int?
  var num_downs: Int?
  var ndf: Int?
  var n_layers: Int?
  var norm: String
  var dropout: Bool?
  var upsampling: String?

  /// The same network built by Models, with zero weights.
  func build() throws -> any Layer {
    let norm = try #require(NormKind(rawValue: norm))
    switch kind {
    case "generator":
      let configuration = GeneratorConfiguration(
        filters: try #require(ngf), residualBlocks: try #require(n_blocks), norm: norm,
        dropout: dropout ?? false,
        upsampling: try #require(GeneratorUpsampling(rawValue: upsampling ?? "transpose")))
      return ResnetGenerator(
        configuration, inputChannels: input_nc, outputChannels: try #require(output_nc))
    case "unet":
      return UnetGenerator(
        .unet(
          filters: try #require(ngf), downsamplings: try #require(num_downs), norm: norm,
          dropout: dropout ?? false),
        inputChannels: input_nc, outputChannels: try #require(output_nc))
    case "basic":
      let layers = try #require(n_layers)
      return makeDiscriminator(
        DiscriminatorConfiguration(
          kind: layers == 3 ? .basic : .nLayers, filters: try #require(ndf), layers: layers,
          norm: norm),
        inputChannels: input_nc)
    default:
      return makeDiscriminator(
        DiscriminatorConfiguration(kind: .pixel, filters: try #require(ndf), norm: norm),
        inputChannels: input_nc)
    }
  }
}

struct ArchitectureFixture: Decodable {
  var config: FixtureNetworkConfiguration
  var parameter_count: Int
  var keys: [KeyAndShape]

  struct KeyAndShape: Decodable {
    var key: String
    var shape: [Int]
    init(from decoder: any Decoder) throws {
      var container = try decoder.unkeyedContainer()
      key = try container.decode(String.self)
      shape = try container.decode([Int].self)
    }
  }
}

@Suite struct ArchitectureTests {
  static let fixture = Result {
    try loadJSONFixture("architectures.json", as: [String: ArchitectureFixture].self)
  }

  static var caseNames: [String] {
    (try? fixture.get().keys.sorted()) ?? ["fixture missing"]
  }

  @Test(arguments: caseNames)
  func keysShapesAndCountsEqualTheReference(caseName: String) throws {
    let architecture = try #require(try Self.fixture.get()[caseName])
    let network = try architecture.config.build()
    let entries = network.stateDictionary()
    #expect(entries.map(\.name) == architecture.keys.map(\.key), "\(caseName): key order")
    #expect(entries.map(\.value.shape) == architecture.keys.map(\.shape), "\(caseName): shapes")
    #expect(network.parameterCount == architecture.parameter_count, "\(caseName): count")
  }

  @Test func theDefaultNetworksHaveTheReferenceParameterCounts() {
    let generator = ResnetGenerator(
      GeneratorConfiguration(filters: 64, residualBlocks: 9), inputChannels: 3,
      outputChannels: 3)
    #expect(generator.parameterCount == 11_378_179)
    let discriminator = PatchDiscriminator(DiscriminatorConfiguration(), inputChannels: 3)
    #expect(discriminator.parameterCount == 2_764_737)

    // A few names spelled out: the residual blocks sit at 10…18 of `model`.
    let names = Set(generator.namedParameters().map(\.name))
    for name in [
      "model.1.weight", "model.10.conv_block.1.weight", "model.10.conv_block.5.bias",
      "model.18.conv_block.5.weight", "model.19.weight", "model.26.bias",
    ] {
      #expect(names.contains(name), "\(name) missing")
    }
  }

  @Test func theGeneratorKeepsTheSizeAndTheDiscriminatorGivesPatches() {
    let generator = ResnetGenerator(
      GeneratorConfiguration(filters: 4, residualBlocks: 1), inputChannels: 1, outputChannels: 3)
    var random = RandomGenerator(seed: 1)
    Initialization().apply(to: generator, using: &random)
    let image = Tensor.randomUniform(
      shape: [2, 1, 24, 16], lowerBound: -1, upperBound: 1, using: &random)
    let translated = withoutGradients { generator(image) }
    #expect(translated.shape == [2, 3, 24, 16])
    #expect(translated.scalars.allSatisfy { abs($0) <= 1 })

    // 70×70 PatchGAN on 64×64: 64 → 32 → 16 → 8 → 7 → 6.
    let discriminator = PatchDiscriminator(
      DiscriminatorConfiguration(filters: 4), inputChannels: 3)
    let patches = withoutGradients {
      discriminator(Tensor(shape: [1, 3, 64, 64], repeating: 0.5))
    }
    #expect(patches.shape == [1, 1, 6, 6])
  }
}

@Suite struct DropoutModeTests {
  /// A small generator with dropout in its residual blocks, initialised from seed 3.
  func makeGenerator(dropoutSeed: UInt64) -> ResnetGenerator {
    let generator = ResnetGenerator(
      GeneratorConfiguration(filters: 4, residualBlocks: 2, dropout: true), inputChannels: 3,
      outputChannels: 3, dropoutSeed: dropoutSeed)
    var random = RandomGenerator(seed: 3)
    Initialization(scheme: .pytorchDefault).apply(to: generator, using: &random)
    return generator
  }

  @Test func dropoutActsInTrainingOnlyAndIsReproducibleFromItsSeed() {
    let image = Tensor(shape: [1, 3, 16, 16], scalars: (0..<768).map { Float($0 % 17) / 8 - 1 })
    let first = makeGenerator(dropoutSeed: 5)
    let twin = makeGenerator(dropoutSeed: 5)
    let other = makeGenerator(dropoutSeed: 6)
    let trained = withoutGradients { first(image) }.scalars
    #expect(withoutGradients { twin(image) }.scalars == trained)
    #expect(withoutGradients { other(image) }.scalars != trained)

    first.setTraining(false)
    let evaluated = withoutGradients { first(image) }.scalars
    #expect(evaluated != trained)
    #expect(withoutGradients { first(image) }.scalars == evaluated)
  }
}
