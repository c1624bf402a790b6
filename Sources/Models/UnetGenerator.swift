/// The U-Net generator of the reference (`--netG unet_256`, `unet_128`), laid out exactly as its
/// `UnetGenerator` and `UnetSkipConnectionBlock`.
import NeuralNet
import Tensors

/// What every generator offers to translation and training.
public protocol GeneratorNetwork: Layer {
  var configuration: GeneratorConfiguration { get }
  /// Channels of the images read (`[N, inputChannels, H, W]`).
  var inputChannels: Int { get }
  /// Channels of the images written.
  var outputChannels: Int { get }
  /// H and W must be multiples of this (the output then has the input's size).
  var sizeMultiple: Int { get }
  /// The smallest H and W accepted.
  var minimumSize: Int { get }
}

extension ResnetGenerator: GeneratorNetwork {
  /// Two stride-2 stages: multiples of 4 keep the size.
  public var sizeMultiple: Int { 4 }
  /// The bottleneck's reflection padding needs planes of at least 2, so 8 at full size.
  public var minimumSize: Int { 8 }
}

/// One level of the U-Net (the reference's `UnetSkipConnectionBlock`): `[N, C, H, W]` →
/// `[N, C + outer, H, W]`, the input concatenated along channels with
/// `model(x)` = [LeakyReLU 0.2, conv 4×4 stride 2 → inner, norm, inner block, ReLU,
/// transposed conv 4×4 stride 2 → outer, norm, (Dropout 0.5)]. The innermost level has no
/// inner block and no norm after its down conv; the outermost reads the image directly (no
/// LeakyReLU, no norm), ends in tanh instead of a norm, and returns `model(x)` alone.
public final class UnetSkipBlock: Layer {
  /// The reference's `model`.
  public let model: Sequential
  public let isOutermost: Bool
  public var isTraining = true

  public init(
    outerChannels: Int, innerChannels: Int, inputChannels: Int? = nil,
    innerBlock: UnetSkipBlock?, position: Position, norm: NormKind, dropout: Bool = false,
    dropoutSeed: UInt64 = 0
  ) {
    let bias = norm.convolutionsHaveBias
    let down = Conv2d(
      inputChannels: inputChannels ?? outerChannels, outputChannels: innerChannels,
      kernelSize: 4, stride: 2, padding: 1, hasBias: bias)
    func up(from channels: Int, bias: Bool) -> ConvTranspose2d {
      ConvTranspose2d(
        inputChannels: channels, outputChannels: outerChannels, kernelSize: 4, stride: 2,
        padding: 1, hasBias: bias)
    }
    var layers: [any Layer]
    switch position {
    case .outermost:
      guard let innerBlock else {
        preconditionFailure("the outermost U-Net block needs one inside")
      }
      layers = [down, innerBlock, ReLU(), up(from: innerChannels * 2, bias: true), Tanh()]
    case .innermost:
      layers = [
        LeakyReLU(slope: 0.2), down, ReLU(), up(from: innerChannels, bias: bias),
        norm.makeLayer(channels: outerChannels),
      ]
    case .middle:
      guard let innerBlock else { preconditionFailure("a middle U-Net block needs one inside") }
      layers = [
        LeakyReLU(slope: 0.2), down, norm.makeLayer(channels: innerChannels), innerBlock,
        ReLU(), up(from: innerChannels * 2, bias: bias), norm.makeLayer(channels: outerChannels),
      ]
      if dropout { layers.append(Dropout(probability: 0.5, seed: dropoutSeed)) }
    }
    model = Sequential(layers)
    isOutermost = position == .outermost
  }

  /// Where a block sits in the U.
  public enum Position: Sendable {
    case outermost, middle, innermost
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    if isOutermost { return model(input) }
    return concatenate([input, model(input)], alongAxis: 1)
  }

  public var children: [(name: String, layer: any Layer)] { [("model", model)] }
}

/// The reference's `UnetGenerator`: `[N, Cin, H, W]` → `[N, Cout, H, W]` in `[-1, 1]`, with
/// `downsamplings` levels halving the resolution (filters ngf, 2·ngf, 4·ngf, then 8·ngf) and skip
/// connections between mirrored levels. The middle levels at 8·ngf take dropout when asked.
/// State names are the reference's (`model.model.0.weight`, `model.model.1.model.1.weight`, …).
///
/// H and W must be multiples of 2^downsamplings (256 for `unet_256`).
public final class UnetGenerator: Layer, GeneratorNetwork {
  public let configuration: GeneratorConfiguration
  public let inputChannels: Int
  public let outputChannels: Int
  /// The reference's `model` (the outermost level).
  public let model: UnetSkipBlock
  public var isTraining = true

  /// Builds the generator with zero weights; initialise it or load weights. Dropout layer `i`
  /// (innermost first) uses `dropoutSeed + i`.
  public init(
    _ configuration: GeneratorConfiguration, inputChannels: Int, outputChannels: Int,
    dropoutSeed: UInt64 = 0
  ) {
    precondition(
      configuration.kind == .unet && configuration.downsamplings >= 5
        && configuration.filters > 0 && inputChannels > 0 && outputChannels > 0,
      "UnetGenerator: invalid configuration \(configuration), \(inputChannels)→\(outputChannels)")
    self.configuration = configuration
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    let norm = configuration.norm
    let filters = configuration.filters

    // From the innermost level outwards.
    var block = UnetSkipBlock(
      outerChannels: filters * 8, innerChannels: filters * 8, innerBlock: nil,
      position: .innermost, norm: norm)
    for index in 0..<(configuration.downsamplings - 5) {
      block = UnetSkipBlock(
        outerChannels: filters * 8, innerChannels: filters * 8, innerBlock: block,
        position: .middle, norm: norm, dropout: configuration.dropout,
        dropoutSeed: dropoutSeed &+ UInt64(index))
    }
    for multiplier in [4, 2, 1] {
      block = UnetSkipBlock(
        outerChannels: filters * multiplier, innerChannels: filters * multiplier * 2,
        innerBlock: block, position: .middle, norm: norm)
    }
    model = UnetSkipBlock(
      outerChannels: outputChannels, innerChannels: filters, inputChannels: inputChannels,
      innerBlock: block, position: .outermost, norm: norm)
  }

  /// 2^downsamplings: every level halves the resolution.
  public var sizeMultiple: Int { 1 << configuration.downsamplings }
  public var minimumSize: Int { sizeMultiple }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    precondition(
      input.rank == 4 && input.shape[1] == inputChannels && input.shape[2] % sizeMultiple == 0
        && input.shape[3] % sizeMultiple == 0 && input.shape[2] > 0 && input.shape[3] > 0,
      "UnetGenerator expects [N, \(inputChannels), H, W] with H and W multiples of "
        + "\(sizeMultiple), got \(input.shape)")
    return model(input)
  }

  public var children: [(name: String, layer: any Layer)] { [("model", model)] }
}

/// Builds the generator `configuration` describes, with zero weights.
public func makeGenerator(
  _ configuration: GeneratorConfiguration, inputChannels: Int, outputChannels: Int,
  dropoutSeed: UInt64 = 0
) -> any GeneratorNetwork {
  switch configuration.kind {
  case .resnet:
    ResnetGenerator(
      configuration, inputChannels: inputChannels, outputChannels: outputChannels,
      dropoutSeed: dropoutSeed)
  case .unet:
    UnetGenerator(
      configuration, inputChannels: inputChannels, outputChannels: outputChannels,
      dropoutSeed: dropoutSeed)
  }
}
