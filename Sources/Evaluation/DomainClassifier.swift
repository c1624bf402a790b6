/// A small CNN that tells domain A from domain B (horse from zebra), built from NeuralNet's
/// layers, and its directory on disk: `config.json` plus `classifier.safetensors`.
import Checkpoints
import Foundation
import ImageIO
import NeuralNet
import Tensors

/// The averages of each plane: `[N, C, H, W]` → `[N, C]` (PyTorch's `x.mean(dim=(2, 3))`).
///
/// Computed as a convolution of each plane with a constant `H`×`W` kernel of `1 / (H·W)`, so
/// the gradient comes from the convolution's own backward pass.
public final class SpatialMean: Layer {
  public var isTraining = true
  public init() {}

  public func callAsFunction(_ input: Tensor) -> Tensor {
    precondition(input.rank == 4, "SpatialMean expects [N, C, H, W], got \(input.shape)")
    let (batch, channels, height, width) = (
      input.shape[0], input.shape[1], input.shape[2], input.shape[3]
    )
    let kernel = Tensor(
      shape: [1, 1, height, width], repeating: 1 / Float(height * width))

    // [N, C, H, W] → [N·C, 1, H, W] → [N·C, 1, 1, 1] → [N, C].
    let planes = input.reshaped(to: [batch * channels, 1, height, width])
    return conv2d(planes, weight: kernel).reshaped(to: [batch, channels])
  }
}

/// What a domain classifier is: its input, its layers and the domains it tells apart.
///
/// ```json
/// { "format": "transmute-classifier", "format_version": 1, "image_size": 64, "load_size": 72,
///   "channels": 3, "filters": [32, 64, 128], "domains": { "A": "horse", "B": "zebra" },
///   "training": { "epochs": "10", … }, "test_accuracy": { "A": 0.958, "B": 0.836, … } }
/// ```
public struct ClassifierConfiguration: Sendable, Codable, Equatable {
  /// The value of `format`.
  public static let formatName = "transmute-classifier"
  /// The `format_version` this build writes and the newest it reads.
  public static let currentFormatVersion = 1

  /// The side of the square input (`S`); a multiple of `2^filters.count`.
  public var imageSize: Int
  /// The side images are resized to before the `imageSize` crop (random in training, centred
  /// otherwise).
  public var loadSize: Int
  /// 3 for colour, 1 for grey.
  public var channels: Int
  /// The output channels of each 4×4 stride-2 convolution.
  public var filters: [Int]
  /// The names of the domains: a positive logit means B.
  public var domainA: String
  public var domainB: String
  /// How it was trained, as strings, for the user's information.
  public var training: [String: String]
  /// The accuracy measured on held-out photos when it was trained, if it was.
  public var testAccuracy: ClassifierAccuracy?

  public init(
    imageSize: Int = 64, loadSize: Int? = nil, channels: Int = 3, filters: [Int] = [32, 64, 128],
    domainA: String = "A", domainB: String = "B", training: [String: String] = [:],
    testAccuracy: ClassifierAccuracy? = nil
  ) {
    self.imageSize = imageSize
    self.loadSize = loadSize ?? (imageSize + imageSize / 8)
    self.channels = channels
    self.filters = filters
    self.domainA = domainA
    self.domainB = domainB
    self.training = training
    self.testAccuracy = testAccuracy
  }

  /// Why the sizes cannot make a classifier, or `nil` when they can.
  public var problem: String? {
    if channels != 1 && channels != 3 { return "channels must be 1 or 3, got \(channels)" }
    if filters.isEmpty || filters.contains(where: { $0 <= 0 }) {
      return "filters must be one or more positive counts, got \(filters)"
    }
    let reduction = 1 << min(filters.count, 20)
    if imageSize < reduction || imageSize % reduction != 0 {
      return "image_size \(imageSize) must be a positive multiple of \(reduction) "
        + "(2 to the number of filters, \(filters.count))"
    }
    if loadSize < imageSize { return "load_size \(loadSize) is below image_size \(imageSize)" }
    return nil
  }

  /// The image as the classifier sees it: resized to `loadSize`², the centre `imageSize`²
  /// cut out, in [-1, 1]: `[1, channels, imageSize, imageSize]`.
  public func input(for image: Image) -> Tensor {
    let offset = (loadSize - imageSize) / 2
    return loaded(image).cropped(x: offset, y: offset, width: imageSize, height: imageSize)
      .tensor(channels: channels)
  }

  /// The image resized to `loadSize`² (unchanged when it already is).
  public func loaded(_ image: Image) -> Image {
    guard image.width != loadSize || image.height != loadSize else { return image }
    return image.resized(width: loadSize, height: loadSize)
  }

  enum CodingKeys: String, CodingKey {
    case format, format_version, image_size, load_size, channels, filters, domains, training,
      test_accuracy
  }

  struct Domains: Codable {
    var A: String
    var B: String
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    imageSize = try container.decode(Int.self, forKey: .image_size)
    loadSize = try container.decode(Int.self, forKey: .load_size)
    channels = try container.decode(Int.self, forKey: .channels)
    filters = try container.decode([Int].self, forKey: .filters)
    let domains = try container.decode(Domains.self, forKey: .domains)
    domainA = domains.A
    domainB = domains.B
    training = try container.decodeIfPresent([String: String].self, forKey: .training) ?? [:]
    testAccuracy = try container.decodeIfPresent(
      ClassifierAccuracy.self, forKey: .test_accuracy)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(Self.formatName, forKey: .format)
    try container.encode(Self.currentFormatVersion, forKey: .format_version)
    try container.encode(imageSize, forKey: .image_size)
    try container.encode(loadSize, forKey: .load_size)
    try container.encode(channels, forKey: .channels)
    try container.encode(filters, forKey: .filters)
    try container.encode(Domains(A: domainA, B: domainB), forKey: .domains)
    try container.encode(training, forKey: .training)
    try container.encodeIfPresent(testAccuracy, forKey: .test_accuracy)
  }
}

/// How often a classifier named real photos of each domain rightly.
public struct ClassifierAccuracy: Sendable, Codable, Equatable {
  /// Images of domain A it called A, and how many there were.
  public var correctA: Int
  public var countA: Int
  /// Images of domain B it called B, and how many there were.
  public var correctB: Int
  public var countB: Int

  public init(correctA: Int, countA: Int, correctB: Int, countB: Int) {
    self.correctA = correctA
    self.countA = countA
    self.correctB = correctB
    self.countB = countB
  }

  /// The fraction of A called A.
  public var accuracyA: Double { countA == 0 ? 0 : Double(correctA) / Double(countA) }
  /// The fraction of B called B.
  public var accuracyB: Double { countB == 0 ? 0 : Double(correctB) / Double(countB) }
  /// The fraction of all images named rightly.
  public var accuracy: Double {
    countA + countB == 0 ? 0 : Double(correctA + correctB) / Double(countA + countB)
  }

  enum CodingKeys: String, CodingKey {
    case correctA = "correct_A"
    case countA = "count_A"
    case correctB = "correct_B"
    case countB = "count_B"
    case accuracyA = "A"
    case accuracyB = "B"
    case accuracy = "overall"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    correctA = try container.decode(Int.self, forKey: .correctA)
    countA = try container.decode(Int.self, forKey: .countA)
    correctB = try container.decode(Int.self, forKey: .correctB)
    countB = try container.decode(Int.self, forKey: .countB)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(accuracyA, forKey: .accuracyA)
    try container.encode(accuracyB, forKey: .accuracyB)
    try container.encode(accuracy, forKey: .accuracy)
    try container.encode(correctA, forKey: .correctA)
    try container.encode(countA, forKey: .countA)
    try container.encode(correctB, forKey: .correctB)
    try container.encode(countB, forKey: .countB)
  }
}

/// The domain classifier: `[N, C, S, S]` in [-1, 1] → logits `[N]`, positive for domain B.
///
///     for each f in filters: conv 4×4 stride 2 padding 1 → f, LeakyReLU 0.2   [N, f, S/2ᵏ, S/2ᵏ]
///     conv 1×1 → 1 (the linear head)                                           [N, 1, s, s]
///     mean over the plane                                                       [N, 1]
///
/// State names are `model.0.weight`, `model.0.bias`, `model.2.weight`, … (the `Sequential`'s
/// positions, activations included).
public final class DomainClassifier: Layer {
  /// What the classifier is. Only `training` and `testAccuracy` may change after creation (they
  /// are recorded in `config.json` by `save(to:)`).
  public var configuration: ClassifierConfiguration {
    didSet {
      var architecture = configuration
      architecture.training = oldValue.training
      architecture.testAccuracy = oldValue.testAccuracy
      precondition(
        architecture == oldValue,
        "DomainClassifier: only training and testAccuracy may change, from \(oldValue) to "
          + "\(configuration)")
    }
  }
  /// The layers in order.
  public let model: Sequential
  public var isTraining = true

  /// Builds the classifier with zero weights (initialise or load them).
  public init(_ configuration: ClassifierConfiguration) {
    precondition(
      configuration.problem == nil,
      "DomainClassifier: \(configuration.problem ?? ""), in \(configuration)")
    self.configuration = configuration
    var layers: [any Layer] = []
    var channels = configuration.channels
    for filters in configuration.filters {
      layers += [
        Conv2d(
          inputChannels: channels, outputChannels: filters, kernelSize: 4, stride: 2, padding: 1),
        LeakyReLU(slope: 0.2),
      ]
      channels = filters
    }
    layers += [Conv2d(inputChannels: channels, outputChannels: 1, kernelSize: 1), SpatialMean()]
    model = Sequential(layers)
  }

  /// `[N, C, S, S]` → `[N, 1]`.
  public func callAsFunction(_ input: Tensor) -> Tensor {
    let side = configuration.imageSize
    precondition(
      input.rank == 4 && input.shape[1] == configuration.channels && input.shape[2] == side
        && input.shape[3] == side,
      "DomainClassifier expects [N, \(configuration.channels), \(side), \(side)], got "
        + "\(input.shape)")
    return model(input)
  }

  /// The logits `[N]` of a batch `[N, C, S, S]`: positive means domain B.
  public func logits(_ input: Tensor) -> Tensor {
    self(input).reshaped(to: [input.shape[0]])
  }

  /// Whether each image of `inputs` (each `[1, C, S, S]`) is called domain B, in batches of
  /// `batchSize`, without recording gradients.
  public func callsDomainB(_ inputs: [Tensor], batchSize: Int = 64) -> [Bool] {
    precondition(batchSize > 0, "batch size \(batchSize) must be positive")
    var result: [Bool] = []
    result.reserveCapacity(inputs.count)
    withoutGradients {
      var start = 0
      while start < inputs.count {
        let end = min(inputs.count, start + batchSize)
        let batch = concatenate(Array(inputs[start..<end]), alongAxis: 0)
        result += logits(batch).scalars.map { $0 > 0 }
        start = end
      }
    }
    return result
  }

  public var children: [(name: String, layer: any Layer)] { [("model", model)] }

  /// The name of the weights file inside a classifier directory.
  public static let weightsFileName = "classifier.safetensors"
  /// The name of the configuration file inside a classifier directory.
  public static let configurationFileName = "config.json"

  /// Writes the classifier to the directory `url` (created if needed): the weights, then
  /// `config.json`, each atomically.
  public func save(to url: URL) throws(EvaluationError) {
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw EvaluationError(
        .unwritable, path: url.path,
        reason: "cannot create the folder: \(fileErrorReason(error))")
    }
    let tensors = Dictionary(
      uniqueKeysWithValues: stateDictionary().map { ($0.name, $0.value) })
    let file = SafetensorsFile(
      tensors: tensors, metadata: ["format": "pt", "network": "domain_classifier"])
    do {
      try file.write(to: url.appendingPathComponent(Self.weightsFileName))
      try AtomicFile.write(
        try encodeJSON(configuration), to: url.appendingPathComponent(Self.configurationFileName))
    } catch let error as CheckpointError {
      throw EvaluationError(.unwritable, path: error.path, reason: error.reason)
    } catch {
      throw EvaluationError(.unwritable, path: url.path, reason: "\(error)")
    }
  }

  /// Loads the classifier saved in the directory `url`.
  public static func load(from url: URL) throws(EvaluationError) -> DomainClassifier {
    let configurationURL = url.appendingPathComponent(configurationFileName)
    guard let data = FileManager.default.contents(atPath: configurationURL.path) else {
      throw EvaluationError(
        .unusableClassifier, path: configurationURL.path,
        reason: "cannot read it: a classifier is a folder holding config.json and "
          + "\(weightsFileName), as 'transmute classifier train' writes")
    }

    // The format and its version first, so that a newer file gets a clear message.
    struct Header: Decodable {
      var format: String?
      var format_version: Int?
    }
    guard let header = try? JSONDecoder().decode(Header.self, from: data),
      header.format == ClassifierConfiguration.formatName, let version = header.format_version
    else {
      throw EvaluationError(
        .unusableClassifier, path: configurationURL.path,
        reason: "not a Transmute classifier configuration (needs \"format\": "
          + "\"\(ClassifierConfiguration.formatName)\" and a \"format_version\")")
    }
    guard (1...ClassifierConfiguration.currentFormatVersion).contains(version) else {
      throw EvaluationError(
        .unsupportedVersion, path: configurationURL.path,
        reason: "format_version \(version) is not supported: this Transmute reads versions 1 "
          + "to \(ClassifierConfiguration.currentFormatVersion); update Transmute to use it")
    }
    let configuration: ClassifierConfiguration
    do {
      configuration = try JSONDecoder().decode(ClassifierConfiguration.self, from: data)
    } catch {
      throw EvaluationError(
        .unusableClassifier, path: configurationURL.path, reason: "invalid: \(error)")
    }
    if let problem = configuration.problem {
      throw EvaluationError(.unusableClassifier, path: configurationURL.path, reason: problem)
    }

    let classifier = DomainClassifier(configuration)
    let weightsURL = url.appendingPathComponent(weightsFileName)
    do {
      let file = try SafetensorsFile(contentsOf: weightsURL)
      try classifier.loadStateDictionary(file.tensors)
    } catch let error as CheckpointError {
      throw EvaluationError(.unusableClassifier, path: weightsURL.path, reason: error.reason)
    } catch {
      throw EvaluationError(
        .unusableClassifier, path: weightsURL.path,
        reason: "the weights do not fit config.json: \(error)")
    }
    classifier.setTraining(false)
    return classifier
  }
}

/// `value` as pretty-printed JSON with sorted keys and a final newline.
func encodeJSON(_ value: some Encodable) throws -> [UInt8] {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  return [UInt8](try encoder.encode(value)) + [UInt8(ascii: "\n")]
}
