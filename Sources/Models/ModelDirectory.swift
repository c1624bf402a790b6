/// Model directories: `config.json` plus one safetensors file per network.
import Checkpoints
import Foundation
import NeuralNet
import Tensors

/// Why a model directory could not be read or written, with the path concerned.
public struct ModelDirectoryError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// The path is not a directory, or has no `config.json`.
    case notAModelDirectory
    /// `config.json` is not valid JSON or lacks a field.
    case invalidConfiguration
    /// `config.json` has a `format_version` this build does not read.
    case unsupportedVersion
    /// A network asked for is not in the directory.
    case missingNetwork
    /// A weights file is unreadable or malformed (see the reason).
    case unreadableWeights
    /// A weights file's tensors do not fit the architecture in `config.json`.
    case architectureMismatch
    /// Something could not be written.
    case unwritable
  }

  public let kind: Kind
  /// The file or directory concerned.
  public let path: String
  /// What was found and what the user can do.
  public let reason: String

  public init(_ kind: Kind, path: String, reason: String) {
    self.kind = kind
    self.path = path
    self.reason = reason
  }

  public var description: String { "\(path): \(reason)" }
}

/// A CycleGAN model on disk: a directory with `config.json` (`ModelConfiguration`) and the
/// weights of each network in `G_A.safetensors`, `G_B.safetensors`, `D_A.safetensors`,
/// `D_B.safetensors`, keyed exactly as the PyTorch reference's `state_dict`s, so that the files
/// load into the reference's networks with `safetensors.torch.load_file` unchanged (and the
/// other way round). A directory for translation only may hold just the generators.
///
/// Weights may be stored as float32, float16 or bfloat16; they are Float32 in memory.
/// `num_batches_tracked` (int64 in PyTorch) is stored as a float, since the safetensors layer
/// reads and writes floating-point types only.
public struct ModelDirectory {
  /// The name of the configuration file.
  public static let configurationFileName = "config.json"

  /// The directory.
  public let url: URL
  public let configuration: ModelConfiguration
  /// The loaded networks (those asked for).
  public let networks: [NetworkRole: any Layer]

  /// The ResNet generator `role` (`G_A` or `G_B`) if it was loaded and is a ResNet.
  public func generator(_ role: NetworkRole) -> ResnetGenerator? {
    networks[role] as? ResnetGenerator
  }

  /// The generator `role` (`G_A` or `G_B`), of either kind, if it was loaded.
  public func generatorNetwork(_ role: NetworkRole) -> (any GeneratorNetwork)? {
    networks[role] as? any GeneratorNetwork
  }

  /// Reads and checks `config.json` of the directory at `url`.
  public static func readConfiguration(
    at url: URL
  ) throws(ModelDirectoryError) -> ModelConfiguration {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory),
      isDirectory.boolValue
    else {
      throw ModelDirectoryError(
        .notAModelDirectory, path: url.path,
        reason: "not a directory; a model is a directory holding config.json and "
          + "G_A.safetensors, G_B.safetensors (and D_A, D_B for training)")
    }
    let configurationURL = url.appendingPathComponent(configurationFileName)
    guard let data = FileManager.default.contents(atPath: configurationURL.path) else {
      var hint = "a model directory needs config.json beside its safetensors files"
      let entries = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
      if entries.contains(where: { $0.hasSuffix(".pth") }) {
        hint += "; this one holds PyTorch .pth files: convert them first"
      }
      throw ModelDirectoryError(
        .notAModelDirectory, path: configurationURL.path, reason: "cannot read it (\(hint))")
    }

    // The format and its version first, so that a newer file gets a clear message.
    struct Header: Decodable {
      var format: String?
      var format_version: Int?
    }
    let header: Header
    do {
      header = try JSONDecoder().decode(Header.self, from: data)
    } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
      // Foundation gives no position; its sentence would only repeat this one.
      throw ModelDirectoryError(
        .invalidConfiguration, path: configurationURL.path,
        reason: "not valid JSON (cut short or damaged?)")
    } catch {
      throw ModelDirectoryError(
        .invalidConfiguration, path: configurationURL.path,
        reason: "not a JSON object: \(describe(error))")
    }
    guard header.format == ModelConfiguration.formatName, let version = header.format_version
    else {
      throw ModelDirectoryError(
        .invalidConfiguration, path: configurationURL.path,
        reason: "not a Transmute model configuration (needs \"format\": "
          + "\"\(ModelConfiguration.formatName)\" and a \"format_version\")")
    }
    guard (1...ModelConfiguration.currentFormatVersion).contains(version) else {
      throw ModelDirectoryError(
        .unsupportedVersion, path: configurationURL.path,
        reason: "format_version \(version) is not supported: this Transmute reads versions 1 to "
          + "\(ModelConfiguration.currentFormatVersion); a newer Transmute wrote this model, "
          + "update Transmute to use it")
    }

    do {
      return try JSONDecoder().decode(ModelConfiguration.self, from: data)
    } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
      // Foundation reports a fraction where a whole number belongs as invalid JSON, without
      // the field; the JSON is known to be valid here, so find the field.
      let field = fractionalCount(in: data).map {
        "\"\($0.path)\" is \($0.value), not a whole number"
      }
      throw ModelDirectoryError(
        .invalidConfiguration, path: configurationURL.path,
        reason: "invalid value: " + (field ?? context.debugDescription))
    } catch {
      throw ModelDirectoryError(
        .invalidConfiguration, path: configurationURL.path, reason: describe(error))
    }
  }

  /// Loads the model at `url`: its configuration and the networks `roles` (by default every
  /// network the directory lists), in evaluation mode (call `setTraining(true)` to train on).
  /// A role the directory does not hold is an error naming it.
  public static func load(
    from url: URL, roles: [NetworkRole]? = nil
  ) throws(ModelDirectoryError) -> ModelDirectory {
    let configuration = try readConfiguration(at: url)
    let wanted = roles ?? configuration.networks
    var networks: [NetworkRole: any Layer] = [:]
    for role in wanted {
      guard configuration.networks.contains(role) else {
        let held = configuration.networks.map(\.rawValue).joined(separator: ", ")
        throw ModelDirectoryError(
          .missingNetwork, path: url.path,
          reason: "the model has no \(role.rawValue) (it holds \(held.isEmpty ? "none" : held))"
            + (role.isGenerator ? "" : "; a generators-only model can translate but not train"))
      }
      let network = configuration.makeNetwork(role)
      let fileURL = url.appendingPathComponent(role.fileName)
      try loadWeights(into: network, from: fileURL)
      network.setTraining(false)
      networks[role] = network
    }
    return ModelDirectory(url: url, configuration: configuration, networks: networks)
  }

  /// Sets `network`'s weights from the safetensors file at `fileURL`. A `module.` prefix on
  /// every key (DataParallel) and running statistics that old PyTorch versions saved for
  /// instance norms are dropped first, as the reference's loader does.
  public static func loadWeights(
    into network: any Layer, from fileURL: URL
  ) throws(ModelDirectoryError) {
    let file: SafetensorsFile
    do {
      file = try SafetensorsFile(contentsOf: fileURL)
    } catch {
      let kind: ModelDirectoryError.Kind =
        FileManager.default.fileExists(atPath: fileURL.path) ? .unreadableWeights : .missingNetwork
      throw ModelDirectoryError(kind, path: fileURL.path, reason: error.reason)
    }
    // The reference loader's clean-up: no DataParallel prefix, no instance-norm statistics.
    let (tensors, _) = ReferenceKeys.normalized(file.tensors)
    do {
      try network.loadStateDictionary(tensors)
    } catch {
      throw ModelDirectoryError(
        .architectureMismatch, path: fileURL.path,
        reason: "the weights do not fit the architecture of config.json: \(error)")
    }
  }

  /// Writes a model directory at `url` (created if needed): each network's weights as
  /// `ROLE.safetensors` stored as `scalarType`, then `config.json` listing them. Every file is
  /// written atomically, `config.json` last, so a reader never sees a configuration naming
  /// weights not yet written.
  @discardableResult
  public static func save(
    configuration: ModelConfiguration, networks: [NetworkRole: any Layer], to url: URL,
    as scalarType: StoredScalarType = .float32
  ) throws(ModelDirectoryError) -> URL {
    precondition(!networks.isEmpty, "ModelDirectory.save needs at least one network")
    precondition(
      configuration.discriminator != nil || networks.keys.allSatisfy(\.isGenerator),
      "ModelDirectory.save: discriminators \(networks.keys.filter { !$0.isGenerator }) given "
        + "but the configuration describes none")
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw ModelDirectoryError(
        .unwritable, path: url.path, reason: "cannot create the directory: \(describe(error))")
    }
    for (role, network) in networks.sorted(by: { $0.key < $1.key }) {
      let entries = network.stateDictionary()
      let file = SafetensorsFile(
        tensors: Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.value) }),
        metadata: ["format": "pt", "network": role.rawValue])
      do {
        try file.write(to: url.appendingPathComponent(role.fileName), as: scalarType)
      } catch {
        throw ModelDirectoryError(.unwritable, path: error.path, reason: error.reason)
      }
    }

    var written = configuration
    written.networks = networks.keys.sorted()
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let configurationURL = url.appendingPathComponent(configurationFileName)
    do {
      let data = try encoder.encode(written)
      try AtomicFile.write([UInt8](data) + [UInt8(ascii: "\n")], to: configurationURL)
    } catch let error as CheckpointError {
      throw ModelDirectoryError(.unwritable, path: error.path, reason: error.reason)
    } catch {
      throw ModelDirectoryError(
        .unwritable, path: configurationURL.path, reason: describe(error))
    }
    return url
  }
}

/// The first count of `config.json` (a size, a channel count, a version) that holds a number
/// with a fraction, and its dotted path (`generator.ngf`).
private func fractionalCount(in data: Data) -> (path: String, value: String)? {
  guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
    return nil
  }
  let counts = ["format_version", "input_nc", "output_nc", "image_size"]
  let nestedCounts = [
    "generator": ["ngf", "n_blocks", "num_downs"], "discriminator": ["ndf", "n_layers"],
  ]
  var candidates = counts.map { ($0, root[$0]) }
  for (section, keys) in nestedCounts.sorted(by: { $0.key < $1.key }) {
    let object = root[section] as? [String: Any]
    candidates += keys.map { ("\(section).\($0)", object?[$0]) }
  }
  for case let (path, number as NSNumber) in candidates
  where number.doubleValue.rounded() != number.doubleValue {
    return (path, number.stringValue)
  }
  return nil
}

/// A short sentence for a decoding or file error.
private func describe(_ error: any Error) -> String {
  switch error {
  case DecodingError.keyNotFound(let key, let context):
    return "missing \"\(path(context.codingPath + [key]))\""
  case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
    return "wrong type at \"\(path(context.codingPath))\": \(context.debugDescription)"
  case DecodingError.dataCorrupted(let context):
    let at = context.codingPath.isEmpty ? "" : " at \"\(path(context.codingPath))\""
    return "invalid value\(at): \(context.debugDescription)"
  default:
    return fileErrorReason(error)
  }
}

private func path(_ codingPath: [any CodingKey]) -> String {
  codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
}
