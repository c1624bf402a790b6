/// The ResNet generator of CycleGAN, laid out exactly as the reference's `ResnetGenerator`.
import NeuralNet
import Tensors

/// A residual block: `x + convBlock(x)` with `convBlock` = [ReflectionPad 1, conv 3×3, norm,
/// ReLU, (Dropout 0.5), ReflectionPad 1, conv 3×3, norm] and no activation after the sum.
///
/// Input and output `[N, C, H, W]` (H, W ≥ 2). State names: `conv_block.1.weight`, … as the
/// reference's `ResnetBlock`.
public final class ResidualBlock: Layer {
  /// The reference's `conv_block`.
  public let convBlock: Sequential
  public var isTraining = true

  public init(channels: Int, norm: NormKind, dropout: Bool, dropoutSeed: UInt64) {
    let bias = norm.convolutionsHaveBias
    var layers: [any Layer] = [
      Pad2d(.reflection, padding: 1),
      Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, hasBias: bias),
      norm.makeLayer(channels: channels),
      ReLU(),
    ]
    if dropout { layers.append(Dropout(probability: 0.5, seed: dropoutSeed)) }
    layers += [
      Pad2d(.reflection, padding: 1),
      Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, hasBias: bias),
      norm.makeLayer(channels: channels),
    ]
    convBlock = Sequential(layers)
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    input + convBlock(input)
  }

  public var children: [(name: String, layer: any Layer)] { [("conv_block", convBlock)] }
}

/// CycleGAN's ResNet generator (the reference's `ResnetGenerator`), `[N, Cin, H, W]` →
/// `[N, Cout, H, W]` in `[-1, 1]`:
///
///     ReflectionPad 3, conv 7×7 → ngf, norm, ReLU                      [N, ngf, H, W]
///     2 × (conv 3×3 stride 2 padding 1 → 2×, norm, ReLU)             [N, 4·ngf, H/4, W/4]
///     n_blocks × ResidualBlock(4·ngf)
///     2 × (up stage → ½×, norm, ReLU)                                 [N, ngf, H, W]
///     ReflectionPad 3, conv 7×7 → Cout (with bias), tanh
///
/// The up stage is the reference's `ConvTranspose2d` (3×3, stride 2, padding 1, output
/// padding 1) or, by `GeneratorUpsampling`, upsampling ×2 then reflection pad 1 and conv 3×3.
/// Convolutions followed by a norm carry a bias only with instance norm, as in the reference.
/// State names are the reference's `state_dict` keys (`model.1.weight`,
/// `model.10.conv_block.1.weight`, …).
///
/// H and W must be multiples of 4 for the output to have the input's size, and at least 8
/// (the bottleneck's reflection padding needs planes of 2 or more).
public final class ResnetGenerator: Layer {
  public let configuration: GeneratorConfiguration
  public let inputChannels: Int
  public let outputChannels: Int
  /// The reference's `model`.
  public let model: Sequential
  public var isTraining = true

  /// Builds the generator with zero weights; initialise it (`Initialization`) or load weights.
  /// `dropoutSeed` seeds the dropout layers (block `i` uses `dropoutSeed + i`).
  public init(
    _ configuration: GeneratorConfiguration, inputChannels: Int, outputChannels: Int,
    dropoutSeed: UInt64 = 0
  ) {
    precondition(
      configuration.kind == .resnet && configuration.filters > 0
        && configuration.residualBlocks >= 0 && inputChannels > 0
        && outputChannels > 0,
      "ResnetGenerator: invalid sizes \(configuration), \(inputChannels)→\(outputChannels)")
    self.configuration = configuration
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    let norm = configuration.norm
    let bias = norm.convolutionsHaveBias
    let filters = configuration.filters

    // Stem: [N, Cin, H, W] → [N, ngf, H, W].
    var layers: [any Layer] = [
      Pad2d(.reflection, padding: 3),
      Conv2d(inputChannels: inputChannels, outputChannels: filters, kernelSize: 7, hasBias: bias),
      norm.makeLayer(channels: filters),
      ReLU(),
    ]

    // Two stride-2 downsamplings: → [N, 4·ngf, H/4, W/4].
    var channels = filters
    for _ in 0..<2 {
      layers += [
        Conv2d(
          inputChannels: channels, outputChannels: channels * 2, kernelSize: 3, stride: 2,
          padding: 1, hasBias: bias),
        norm.makeLayer(channels: channels * 2),
        ReLU(),
      ]
      channels *= 2
    }

    // Residual blocks at the bottleneck.
    for block in 0..<configuration.residualBlocks {
      layers.append(
        ResidualBlock(
          channels: channels, norm: norm, dropout: configuration.dropout,
          dropoutSeed: dropoutSeed &+ UInt64(block)))
    }

    // Two up stages: → [N, ngf, H, W].
    for _ in 0..<2 {
      switch configuration.upsampling {
      case .transpose:
        layers.append(
          ConvTranspose2d(
            inputChannels: channels, outputChannels: channels / 2, kernelSize: 3, stride: 2,
            padding: 1, outputPadding: 1, hasBias: bias))
      case .nearest, .bilinear:
        layers += [
          Upsample(scale: 2, mode: configuration.upsampling == .nearest ? .nearest : .bilinear),
          Pad2d(.reflection, padding: 1),
          Conv2d(
            inputChannels: channels, outputChannels: channels / 2, kernelSize: 3, hasBias: bias),
        ]
      }
      layers += [norm.makeLayer(channels: channels / 2), ReLU()]
      channels /= 2
    }

    // Head: → [N, Cout, H, W] in [-1, 1].
    layers += [
      Pad2d(.reflection, padding: 3),
      Conv2d(inputChannels: filters, outputChannels: outputChannels, kernelSize: 7),
      Tanh(),
    ]
    model = Sequential(layers)
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    precondition(
      input.rank == 4 && input.shape[1] == inputChannels,
      "ResnetGenerator expects [N, \(inputChannels), H, W], got \(input.shape)")
    return model(input)
  }

  public var children: [(name: String, layer: any Layer)] { [("model", model)] }
}
