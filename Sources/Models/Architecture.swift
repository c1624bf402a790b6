/// The architecture options of CycleGAN networks, named as the reference's command-line options.
import NeuralNet

/// The normalisation layer of a network (the reference's `--norm`).
public enum NormKind: String, Sendable, Codable, CaseIterable {
  /// `InstanceNorm2d` without affine parameters or running statistics (the CycleGAN default).
  case instance
  /// `BatchNorm2d` with affine parameters and running statistics.
  case batch
  /// No normalisation (an `Identity` layer keeps the reference's positions).
  case none

  /// Whether the convolutions right before the norm carry a bias: only with instance norm, as
  /// in the reference (`use_bias = norm_layer == InstanceNorm2d`, so `none` has no bias either).
  public var convolutionsHaveBias: Bool { self == .instance }

  /// A norm layer over `channels` channels.
  public func makeLayer(channels: Int) -> any Layer {
    switch self {
    case .instance: InstanceNorm2d(channels: channels, affine: false)
    case .batch: BatchNorm2d(channels: channels)
    case .none: Identity()
    }
  }
}

/// How a ResNet generator's two up stages double the resolution.
public enum GeneratorUpsampling: String, Sendable, Codable, CaseIterable {
  /// The reference: `ConvTranspose2d` 3×3, stride 2, padding 1, output padding 1.
  case transpose
  /// Nearest-neighbour ×2, reflection pad 1, 3×3 convolution (avoids checkerboard artefacts).
  case nearest
  /// Bilinear ×2 (align_corners false), reflection pad 1, 3×3 convolution.
  case bilinear
}

/// Which generator (the reference's `--netG` family).
public enum GeneratorKind: String, Sendable, Codable, CaseIterable {
  /// `ResnetGenerator`: `resnet_9blocks`, `resnet_6blocks`.
  case resnet
  /// `UnetGenerator`: `unet_256` (8 halvings), `unet_128` (7).
  case unet
}

/// A generator's architecture (the reference's `--netG`, `--ngf`, `--norm`, `--no_dropout`),
/// without its channel counts.
public struct GeneratorConfiguration: Sendable, Codable, Equatable {
  public var kind: GeneratorKind
  /// Filters of the first convolution (`--ngf`, default 64).
  public var filters: Int
  /// ResNet: residual blocks (9 for `resnet_9blocks`, 6 for `resnet_6blocks`).
  public var residualBlocks: Int
  /// U-Net: halvings of the resolution (the reference's `num_downs`: 8 for `unet_256`).
  public var downsamplings: Int
  public var norm: NormKind
  /// Dropout 0.5 in each residual block, or in the U-Net's innermost-but-one blocks (the
  /// reference's default is `--no_dropout`).
  public var dropout: Bool
  /// ResNet: how the up stages double the resolution.
  public var upsampling: GeneratorUpsampling

  /// A ResNet generator.
  public init(
    filters: Int = 64, residualBlocks: Int = 9, norm: NormKind = .instance,
    dropout: Bool = false, upsampling: GeneratorUpsampling = .transpose
  ) {
    kind = .resnet
    self.filters = filters
    self.residualBlocks = residualBlocks
    downsamplings = 0
    self.norm = norm
    self.dropout = dropout
    self.upsampling = upsampling
  }

  /// A U-Net generator with `downsamplings` halvings (at least 5).
  public static func unet(
    filters: Int = 64, downsamplings: Int = 8, norm: NormKind = .instance, dropout: Bool = false
  ) -> GeneratorConfiguration {
    var configuration = GeneratorConfiguration(
      filters: filters, residualBlocks: 0, norm: norm, dropout: dropout)
    configuration.kind = .unet
    configuration.downsamplings = downsamplings
    return configuration
  }

  /// The reference's `--netG` value: `resnet_9blocks`, `resnet_6blocks`, `unet_256`, …
  public var referenceName: String {
    switch kind {
    case .resnet: "resnet_\(residualBlocks)blocks"
    case .unet: "unet_\(1 << downsamplings)"
    }
  }

  enum CodingKeys: String, CodingKey {
    case netG, ngf, n_blocks, num_downs, norm, dropout, upsampling
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let name = try container.decodeIfPresent(String.self, forKey: .netG) ?? "resnet"
    filters = try container.decode(Int.self, forKey: .ngf)
    norm = try container.decode(NormKind.self, forKey: .norm)
    dropout = try container.decodeIfPresent(Bool.self, forKey: .dropout) ?? false
    upsampling =
      try container.decodeIfPresent(GeneratorUpsampling.self, forKey: .upsampling) ?? .transpose
    // The bounds keep a hostile or mistyped config.json from asking for terabytes.
    guard (1...4096).contains(filters) else {
      throw DecodingError.dataCorruptedError(
        forKey: .ngf, in: container, debugDescription: "ngf \(filters) must be from 1 to 4096")
    }

    if name.hasPrefix("unet") {
      kind = .unet
      residualBlocks = 0
      let size = Int(name.dropFirst("unet_".count)) ?? 0
      let named = size > 0 && size & (size - 1) == 0 ? size.trailingZeroBitCount : nil
      downsamplings = try container.decodeIfPresent(Int.self, forKey: .num_downs) ?? named ?? 0
      guard (5...12).contains(downsamplings), named == nil || named == downsamplings else {
        throw DecodingError.dataCorruptedError(
          forKey: .netG, in: container,
          debugDescription:
            "netG \"\(name)\" with num_downs \(downsamplings): a U-Net is unet_2^k (unet_256, "
            + "unet_128) with k = num_downs from 5 to 12")
      }
      return
    }

    kind = .resnet
    downsamplings = 0
    residualBlocks = try container.decode(Int.self, forKey: .n_blocks)
    guard (0...100).contains(residualBlocks) else {
      throw DecodingError.dataCorruptedError(
        forKey: .n_blocks, in: container,
        debugDescription: "n_blocks \(residualBlocks) must be from 0 to 100")
    }
    guard name == referenceName || name == "resnet" else {
      throw DecodingError.dataCorruptedError(
        forKey: .netG, in: container,
        debugDescription:
          "netG \"\(name)\" does not match n_blocks \(residualBlocks) (expected "
          + "\"\(referenceName)\"); generators are resnet_Nblocks or unet_256/unet_128")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(referenceName, forKey: .netG)
    try container.encode(filters, forKey: .ngf)
    switch kind {
    case .resnet:
      try container.encode(residualBlocks, forKey: .n_blocks)
    case .unet:
      try container.encode(downsamplings, forKey: .num_downs)
    }
    try container.encode(norm, forKey: .norm)
    try container.encode(dropout, forKey: .dropout)
    if kind == .resnet { try container.encode(upsampling, forKey: .upsampling) }
  }
}

/// Which discriminator (the reference's `--netD`).
public enum DiscriminatorKind: String, Sendable, Codable, CaseIterable {
  /// The 70×70 PatchGAN: `NLayerDiscriminator` with 3 layers.
  case basic
  /// `NLayerDiscriminator` with `--n_layers_D` layers.
  case nLayers = "n_layers"
  /// The 1×1 PatchGAN (`PixelDiscriminator`).
  case pixel
}

/// A discriminator's architecture (the reference's `--netD`, `--ndf`, `--n_layers_D`,
/// `--norm`), without its input channel count.
public struct DiscriminatorConfiguration: Sendable, Codable, Equatable {
  public var kind: DiscriminatorKind
  /// Filters of the first convolution (`--ndf`, default 64).
  public var filters: Int
  /// Strided convolutions of a PatchGAN (`--n_layers_D`; 3 for `basic`, unused by `pixel`).
  public var layers: Int
  public var norm: NormKind

  public init(
    kind: DiscriminatorKind = .basic, filters: Int = 64, layers: Int = 3,
    norm: NormKind = .instance
  ) {
    self.kind = kind
    self.filters = filters
    self.layers = kind == .basic ? 3 : layers
    self.norm = norm
  }

  enum CodingKeys: String, CodingKey {
    case netD, ndf, n_layers, norm
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    kind = try container.decode(DiscriminatorKind.self, forKey: .netD)
    filters = try container.decode(Int.self, forKey: .ndf)
    layers = try container.decodeIfPresent(Int.self, forKey: .n_layers) ?? 3
    norm = try container.decode(NormKind.self, forKey: .norm)
    guard (1...4096).contains(filters), (1...10).contains(layers) else {
      throw DecodingError.dataCorruptedError(
        forKey: .ndf, in: container,
        debugDescription: "ndf \(filters) must be from 1 to 4096 and n_layers \(layers) from 1 "
          + "to 10")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(kind, forKey: .netD)
    try container.encode(filters, forKey: .ndf)
    try container.encode(layers, forKey: .n_layers)
    try container.encode(norm, forKey: .norm)
  }
}
