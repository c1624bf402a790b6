/// `config.json` of a model directory: what the networks are and what they were trained on.
import NeuralNet

/// One of the four networks of a CycleGAN model, named as the reference names them.
public enum NetworkRole: String, Sendable, Codable, CaseIterable, Comparable {
  /// Translates domain A to domain B.
  case generatorA = "G_A"
  /// Translates domain B to domain A.
  case generatorB = "G_B"
  /// Tells real B images from `G_A`'s output (the reference's `netD_A`).
  case discriminatorA = "D_A"
  /// Tells real A images from `G_B`'s output.
  case discriminatorB = "D_B"

  /// Whether the network is a generator.
  public var isGenerator: Bool { self == .generatorA || self == .generatorB }

  /// The weights file inside a model directory: `G_A.safetensors`, …
  public var fileName: String { rawValue + ".safetensors" }

  public static func < (lhs: NetworkRole, rhs: NetworkRole) -> Bool {
    allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
  }
}

/// The contents of a model directory's `config.json`.
///
/// ```json
/// { "format": "transmute-model", "format_version": 1,
///   "generator": { "netG": "resnet_9blocks", "ngf": 64, "n_blocks": 9, "norm": "instance",
///                  "dropout": false, "upsampling": "transpose" },
///   "discriminator": { "netD": "basic", "ndf": 64, "n_layers": 3, "norm": "instance" },
///   "input_nc": 3, "output_nc": 3, "domains": { "A": "horse", "B": "zebra" },
///   "image_size": 256, "networks": ["G_A", "G_B", "D_A", "D_B"], "options": { … } }
/// ```
///
/// `input_nc` is the channel count of domain A and `output_nc` that of domain B, as in the
/// reference; `discriminator` may be absent in a generators-only directory; `options` records
/// the training options as strings, for the user's information.
public struct ModelConfiguration: Sendable, Codable, Equatable {
  /// The value of `format`.
  public static let formatName = "transmute-model"
  /// The `format_version` this build writes and the newest it reads.
  public static let currentFormatVersion = 1

  public var generator: GeneratorConfiguration
  public var discriminator: DiscriminatorConfiguration?
  /// Channels of domain A images (the reference's `input_nc`): 3 for colour, 1 for grey.
  public var channelsA: Int
  /// Channels of domain B images (`output_nc`).
  public var channelsB: Int
  /// Names of the two domains, for messages and reports ("horse", "zebra").
  public var domainA: String
  public var domainB: String
  /// The image size the networks were trained at (the reference's `crop_size`), if known.
  public var imageSize: Int?
  /// The networks whose weights the directory holds.
  public var networks: [NetworkRole]
  /// The options of the run that made the model, as strings.
  public var options: [String: String]

  public init(
    generator: GeneratorConfiguration = GeneratorConfiguration(),
    discriminator: DiscriminatorConfiguration? = DiscriminatorConfiguration(),
    channelsA: Int = 3, channelsB: Int = 3, domainA: String = "A", domainB: String = "B",
    imageSize: Int? = nil, networks: [NetworkRole] = NetworkRole.allCases,
    options: [String: String] = [:]
  ) {
    self.generator = generator
    self.discriminator = discriminator
    self.channelsA = channelsA
    self.channelsB = channelsB
    self.domainA = domainA
    self.domainB = domainB
    self.imageSize = imageSize
    self.networks = networks
    self.options = options
  }

  /// The channels a network reads: `G_A` reads A, `G_B` reads B, `D_A` judges B (real B and
  /// `G_A`'s fakes), `D_B` judges A.
  public func inputChannels(of role: NetworkRole) -> Int {
    switch role {
    case .generatorA, .discriminatorB: channelsA
    case .generatorB, .discriminatorA: channelsB
    }
  }

  /// The channels a generator writes: `G_A` writes B, `G_B` writes A.
  public func outputChannels(ofGenerator role: NetworkRole) -> Int {
    precondition(role.isGenerator, "\(role.rawValue) is not a generator")
    return role == .generatorA ? channelsB : channelsA
  }

  /// Builds the network `role` with zero weights (initialise or load them); `dropoutSeed`
  /// seeds a generator's dropout layers. Discriminators need `discriminator` to be set.
  public func makeNetwork(_ role: NetworkRole, dropoutSeed: UInt64 = 0) -> any Layer {
    if role.isGenerator {
      return makeGenerator(
        generator, inputChannels: inputChannels(of: role),
        outputChannels: outputChannels(ofGenerator: role), dropoutSeed: dropoutSeed)
    }
    guard let discriminator else {
      preconditionFailure("\(role.rawValue) asked of a configuration without a discriminator")
    }
    return makeDiscriminator(discriminator, inputChannels: inputChannels(of: role))
  }

  enum CodingKeys: String, CodingKey {
    case format, format_version, generator, discriminator, input_nc, output_nc, domains,
      image_size, networks, options
  }

  struct Domains: Codable {
    var A: String
    var B: String
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    generator = try container.decode(GeneratorConfiguration.self, forKey: .generator)
    discriminator = try container.decodeIfPresent(
      DiscriminatorConfiguration.self, forKey: .discriminator)
    channelsA = try container.decode(Int.self, forKey: .input_nc)
    channelsB = try container.decode(Int.self, forKey: .output_nc)
    let domains = try container.decodeIfPresent(Domains.self, forKey: .domains)
    domainA = domains?.A ?? "A"
    domainB = domains?.B ?? "B"
    imageSize = try container.decodeIfPresent(Int.self, forKey: .image_size)
    networks = try container.decode([NetworkRole].self, forKey: .networks)
    options = try container.decodeIfPresent([String: String].self, forKey: .options) ?? [:]
    guard (1...64).contains(channelsA), (1...64).contains(channelsB) else {
      throw DecodingError.dataCorruptedError(
        forKey: .input_nc, in: container,
        debugDescription:
          "input_nc \(channelsA) and output_nc \(channelsB) must be from 1 to 64")
    }
    if let imageSize, !(1...65536).contains(imageSize) {
      throw DecodingError.dataCorruptedError(
        forKey: .image_size, in: container,
        debugDescription: "image_size \(imageSize) must be from 1 to 65536")
    }
    if discriminator == nil, networks.contains(where: { !$0.isGenerator }) {
      throw DecodingError.dataCorruptedError(
        forKey: .discriminator, in: container,
        debugDescription: "networks lists a discriminator but there is no \"discriminator\"")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(Self.formatName, forKey: .format)
    try container.encode(Self.currentFormatVersion, forKey: .format_version)
    try container.encode(generator, forKey: .generator)
    try container.encodeIfPresent(discriminator, forKey: .discriminator)
    try container.encode(channelsA, forKey: .input_nc)
    try container.encode(channelsB, forKey: .output_nc)
    try container.encode(Domains(A: domainA, B: domainB), forKey: .domains)
    try container.encodeIfPresent(imageSize, forKey: .image_size)
    try container.encode(networks, forKey: .networks)
    try container.encode(options, forKey: .options)
  }
}
