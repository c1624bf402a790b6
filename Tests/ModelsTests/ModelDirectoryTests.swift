/// Model directories: saving and loading, generators-only and half-precision directories
/// written by Python (Fixtures/half_model/), and the errors a user meets.
import Checkpoints
import Foundation
import Testing

@testable import Models
@testable import NeuralNet
@testable import Tensors

/// A small configuration with every network, batch norm in the discriminators (so buffers
/// are saved too) and dropout in the generators.
func smallConfiguration() -> ModelConfiguration {
  ModelConfiguration(
    generator: GeneratorConfiguration(filters: 4, residualBlocks: 2, dropout: true),
    discriminator: DiscriminatorConfiguration(filters: 4, norm: .batch),
    channelsA: 3, channelsB: 1, domainA: "photo", domainB: "sketch", imageSize: 32,
    options: ["lambda_A": "10", "lr": "0.0002"])
}

/// Every network of `configuration`, initialised from `seed`.
func makeNetworks(
  _ configuration: ModelConfiguration, seed: UInt64
) -> [NetworkRole: any Layer] {
  var generator = RandomGenerator(seed: seed)
  var networks: [NetworkRole: any Layer] = [:]
  for role in configuration.networks {
    let network = configuration.makeNetwork(role)
    Initialization(scheme: .pytorchDefault).apply(to: network, using: &generator)
    networks[role] = network
  }
  return networks
}

@Suite struct ModelDirectoryTests {
  @Test func savedDirectoriesLoadBackExactly() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let configuration = smallConfiguration()
    let networks = makeNetworks(configuration, seed: 4)
    let batchNorm = try #require(
      (networks[.discriminatorA] as? PatchDiscriminator)?.model[3] as? BatchNorm2d)
    batchNorm.batchesTracked.value = Tensor(shape: [], scalars: [17])
    let url = directory.appendingPathComponent("photo2sketch")
    try ModelDirectory.save(configuration: configuration, networks: networks, to: url)

    let files = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    #expect(
      files == [
        "D_A.safetensors", "D_B.safetensors", "G_A.safetensors", "G_B.safetensors",
        "config.json",
      ])
    let loaded = try ModelDirectory.load(from: url)
    #expect(loaded.configuration == configuration)
    for role in NetworkRole.allCases {
      let original = try #require(networks[role]).stateDictionary()
      let restored = try #require(loaded.networks[role]).stateDictionary()
      #expect(original.map(\.name) == restored.map(\.name))
      #expect(original.map(\.value.scalars) == restored.map(\.value.scalars), "\(role)")
      #expect(loaded.networks[role]?.isTraining == false)
    }

    // G_A maps A's 3 channels to B's 1, and D_A judges B images.
    let generatorA = try #require(loaded.generator(.generatorA))
    #expect(generatorA.inputChannels == 3 && generatorA.outputChannels == 1)
    #expect((loaded.networks[.discriminatorA] as? PatchDiscriminator)?.inputChannels == 1)
  }

  @Test func halfPrecisionSavesRoundToTheNearestHalf() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var configuration = smallConfiguration()
    configuration.networks = [.generatorA]
    let networks = makeNetworks(configuration, seed: 8)
    try ModelDirectory.save(
      configuration: configuration, networks: networks, to: directory, as: .float16)
    let stored = try SafetensorsFile(
      contentsOf: directory.appendingPathComponent("G_A.safetensors"))
    #expect(Set(stored.storedTypes.values) == [.float16])
    let loaded = try ModelDirectory.load(from: directory, roles: [.generatorA])
    let original = try #require(networks[.generatorA]).stateDictionary()
    let restored = try #require(loaded.networks[.generatorA]).stateDictionary()
    for (before, after) in zip(original, restored) {
      // Half precision keeps 11 significant bits: relative error ≤ 2^-11 (normal range).
      expectClose(after.value, before.value, rtol: 0x1p-11, atol: 1e-7, before.name)
    }
  }

  @Test func aGeneratorsOnlyHalfPrecisionDirectoryFromPythonLoads() throws {
    let url = fixturesDirectory.appendingPathComponent("half_model")
    let model = try ModelDirectory.load(from: url)
    #expect(model.configuration.networks == [.generatorA, .generatorB])
    #expect(model.configuration.discriminator == nil)
    #expect(model.configuration.domainA == "apples" && model.configuration.imageSize == 64)
    #expect(model.networks.keys.sorted() == [.generatorA, .generatorB])

    let reference = try loadTensors("half_model_reference.safetensors")
    for role in [NetworkRole.generatorA, .generatorB] {
      let entries = try #require(model.networks[role]).stateDictionary()
      #expect(!entries.isEmpty)
      for entry in entries {
        let expected = try #require(reference[role.rawValue + "." + entry.name])
        expectClose(entry.value, expected, rtol: 0, atol: 0, "\(role.rawValue).\(entry.name)")
      }
    }

    // Discriminators are not there: asking for them says so.
    #expect {
      try ModelDirectory.load(from: url, roles: [.generatorA, .discriminatorA])
    } throws: { error in
      let error = error as? ModelDirectoryError
      return error?.kind == .missingNetwork
        && error?.reason.contains("the model has no D_A (it holds G_A, G_B)") == true
    }
  }

  @Test func configurationsFromANewerVersionOrElsewhereAreRefusedWithAReason() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let configurationURL = directory.appendingPathComponent("config.json")
    func reading(_ json: String) -> ModelDirectoryError? {
      try? Data(json.utf8).write(to: configurationURL)
      do {
        _ = try ModelDirectory.readConfiguration(at: directory)
        return nil
      } catch {
        return error
      }
    }

    let newer = reading(#"{"format": "transmute-model", "format_version": 7}"#)
    #expect(newer?.kind == .unsupportedVersion)
    #expect(newer?.reason.contains("format_version 7 is not supported") == true)
    #expect(newer?.path == configurationURL.path)

    let foreign = reading(#"{"name": "something else"}"#)
    #expect(foreign?.kind == .invalidConfiguration)
    #expect(foreign?.reason.contains("not a Transmute model configuration") == true)

    let broken = reading("{not json")
    #expect(broken?.kind == .invalidConfiguration)
    #expect(
      broken?.reason == "not valid JSON (cut short or damaged?)", "\(String(describing: broken))")
    let cut = reading(#"{"format": "transmute-mo"#)
    #expect(cut?.reason == "not valid JSON (cut short or damaged?)", "\(String(describing: cut))")

    let incomplete = reading(
      #"{"format": "transmute-model", "format_version": 1, "input_nc": 3, "output_nc": 3, "#
        + #""networks": ["G_A"]}"#)
    #expect(incomplete?.kind == .invalidConfiguration)
    #expect(incomplete?.reason.contains("missing \"generator\"") == true)

    let mismatchedName = reading(
      #"{"format": "transmute-model", "format_version": 1, "input_nc": 3, "output_nc": 3, "#
        + #""networks": ["G_A"], "generator": {"netG": "resnet_9blocks", "ngf": 8, "#
        + #""n_blocks": 6, "norm": "instance"}}"#)
    #expect(mismatchedName?.reason.contains("does not match n_blocks 6") == true)

    // Sizes no real model has are refused before any memory is asked for; a fraction where a
    // count belongs is named.
    func generator(_ fields: String) -> String {
      #"{"format": "transmute-model", "format_version": 1, "input_nc": 3, "output_nc": 3, "#
        + #""networks": ["G_A"], "generator": {"netG": "resnet_6blocks", "norm": "instance", "#
        + fields + "}}"
    }
    let huge = reading(generator(#""ngf": 1000000000, "n_blocks": 6"#))
    #expect(huge?.reason.contains("ngf 1000000000 must be from 1 to 4096") == true, "\(huge!)")
    let deep = reading(generator(#""ngf": 8, "n_blocks": 100000"#))
    #expect(deep?.reason.contains("n_blocks 100000 must be from 0 to 100") == true, "\(deep!)")
    let fraction = reading(generator(#""ngf": 32.5, "n_blocks": 6"#))
    #expect(fraction?.kind == .invalidConfiguration)
    #expect(fraction?.reason.contains("generator.ngf") == true, "\(fraction!)")

    // No config.json at all, with a hint when PyTorch files are there.
    try FileManager.default.removeItem(at: configurationURL)
    _ = FileManager.default.createFile(
      atPath: directory.appendingPathComponent("latest_net_G_A.pth").path, contents: Data())
    #expect {
      try ModelDirectory.readConfiguration(at: directory)
    } throws: { error in
      let error = error as? ModelDirectoryError
      return error?.kind == .notAModelDirectory
        && error?.reason.contains("PyTorch .pth files") == true
    }
  }

  @Test func weightsOfAnotherArchitectureAreRefusedNamingTheFile() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var configuration = smallConfiguration()
    configuration.networks = [.generatorA]
    try ModelDirectory.save(
      configuration: configuration, networks: makeNetworks(configuration, seed: 1), to: directory)

    // The same directory claims a wider generator now.
    configuration.generator.filters = 8
    let data = try JSONEncoder().encode(configuration)
    try data.write(to: directory.appendingPathComponent("config.json"))
    #expect {
      try ModelDirectory.load(from: directory)
    } throws: { error in
      let error = error as? ModelDirectoryError
      return error?.kind == .architectureMismatch
        && error?.path.hasSuffix("G_A.safetensors") == true
        && error?.reason.contains("model.1.weight: expected [8, 3, 7, 7], found [4, 3, 7, 7]")
          == true
    }

    // A truncated weights file is reported as unreadable, naming it.
    configuration.generator.filters = 4
    try JSONEncoder().encode(configuration).write(
      to: directory.appendingPathComponent("config.json"))
    let weightsURL = directory.appendingPathComponent("G_A.safetensors")
    let bytes = try Data(contentsOf: weightsURL)
    try bytes.prefix(bytes.count / 2).write(to: weightsURL)
    #expect {
      try ModelDirectory.load(from: directory)
    } throws: { error in
      (error as? ModelDirectoryError)?.kind == .unreadableWeights
    }
  }
}

@Suite struct ReferenceFileCleanUpTests {
  @Test func dataParallelPrefixesAndOldInstanceNormStatisticsAreDropped() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var configuration = smallConfiguration()
    configuration.networks = [.generatorA]
    let networks = makeNetworks(configuration, seed: 2)
    try ModelDirectory.save(configuration: configuration, networks: networks, to: directory)

    // Rewrite G_A as an old multi-GPU PyTorch run would have saved it.
    let original = try #require(networks[.generatorA]).stateDictionary()
    var tensors: [String: Tensor] = [:]
    for entry in original { tensors["module." + entry.name] = entry.value }
    tensors["module.model.2.running_mean"] = Tensor(shape: [4])
    tensors["module.model.2.running_var"] = Tensor(shape: [4], repeating: 1)
    try SafetensorsFile(tensors: tensors).write(
      to: directory.appendingPathComponent("G_A.safetensors"))

    let loaded = try ModelDirectory.load(from: directory)
    let restored = try #require(loaded.networks[.generatorA]).stateDictionary()
    #expect(restored.map(\.name) == original.map(\.name))
    #expect(restored.map(\.value.scalars) == original.map(\.value.scalars))
  }
}

@Suite struct GeneratorConfigurationTests {
  func decode(_ json: String) throws -> GeneratorConfiguration {
    try JSONDecoder().decode(GeneratorConfiguration.self, from: Data(json.utf8))
  }

  @Test func referenceGeneratorNamesDecodeToTheirArchitectures() throws {
    let unet = try decode(#"{"netG": "unet_256", "ngf": 64, "norm": "batch"}"#)
    #expect(unet.kind == .unet && unet.downsamplings == 8 && unet.referenceName == "unet_256")
    let resnet = try decode(
      #"{"netG": "resnet_6blocks", "ngf": 32, "n_blocks": 6, "norm": "none"}"#)
    #expect(resnet.kind == .resnet && resnet.residualBlocks == 6 && resnet.upsampling == .transpose)
    #expect(throws: DecodingError.self) {
      try decode(#"{"netG": "unet_100", "ngf": 64, "norm": "batch"}"#)
    }
    #expect(throws: DecodingError.self) {
      try decode(#"{"netG": "unet_256", "num_downs": 7, "ngf": 64, "norm": "batch"}"#)
    }
    for configuration in [unet, resnet] {
      let again = try JSONDecoder().decode(
        GeneratorConfiguration.self, from: JSONEncoder().encode(configuration))
      #expect(again == configuration)
    }
  }

  @Test func aUnetModelDirectorySavesAndLoads() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let configuration = ModelConfiguration(
      generator: .unet(filters: 2, downsamplings: 5, norm: .batch, dropout: true),
      discriminator: nil, networks: [.generatorA, .generatorB])
    let networks = makeNetworks(configuration, seed: 6)
    try ModelDirectory.save(configuration: configuration, networks: networks, to: directory)
    let model = try ModelDirectory.load(from: directory)
    #expect(model.configuration == configuration)
    let generator = try #require(model.generatorNetwork(.generatorB))
    #expect(generator is UnetGenerator && generator.sizeMultiple == 32)
    #expect(model.generator(.generatorB) == nil)
    let original = try #require(networks[.generatorB]).stateDictionary()
    #expect(generator.stateDictionary().map(\.value.scalars) == original.map(\.value.scalars))
    let output = withoutGradients { generator(Tensor(shape: [1, 3, 32, 64], repeating: 0.1)) }
    #expect(output.shape == [1, 3, 32, 64])
  }
}
