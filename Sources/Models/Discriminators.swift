/// The discriminators of CycleGAN, laid out exactly as the reference's.
import NeuralNet
import Tensors

/// The PatchGAN discriminator (the reference's `NLayerDiscriminator`), `[N, Cin, H, W]` →
/// `[N, 1, H', W']` of logits, one per overlapping patch (70×70 pixels for 3 layers):
///
///     conv 4×4 stride 2 → ndf (with bias), LeakyReLU 0.2
///     for n in 1..<layers: conv 4×4 stride 2 → ndf·min(2ⁿ, 8), norm, LeakyReLU 0.2
///     conv 4×4 stride 1 → ndf·min(2^layers, 8), norm, LeakyReLU 0.2
///     conv 4×4 stride 1 → 1 (with bias)
///
/// all with padding 1; convolutions before a norm carry a bias only with instance norm.
/// State names: `model.0.weight`, … as the reference's. For 3 layers and 256×256 input,
/// H' = W' = 30.
public final class PatchDiscriminator: Layer {
  public let configuration: DiscriminatorConfiguration
  public let inputChannels: Int
  /// The reference's `model`.
  public let model: Sequential
  public var isTraining = true

  /// Builds the discriminator with zero weights; initialise it or load weights.
  public init(_ configuration: DiscriminatorConfiguration, inputChannels: Int) {
    precondition(
      configuration.filters > 0 && configuration.layers > 0 && inputChannels > 0,
      "PatchDiscriminator: invalid sizes \(configuration), \(inputChannels) channels")
    self.configuration = configuration
    self.inputChannels = inputChannels
    let norm = configuration.norm
    let bias = norm.convolutionsHaveBias
    let filters = configuration.filters

    var layers: [any Layer] = [
      Conv2d(
        inputChannels: inputChannels, outputChannels: filters, kernelSize: 4, stride: 2,
        padding: 1),
      LeakyReLU(slope: 0.2),
    ]
    var multiplier = 1
    for n in 1...configuration.layers {
      let previous = multiplier
      multiplier = min(1 << n, 8)
      layers += [
        Conv2d(
          inputChannels: filters * previous, outputChannels: filters * multiplier,
          kernelSize: 4, stride: n < configuration.layers ? 2 : 1, padding: 1, hasBias: bias),
        norm.makeLayer(channels: filters * multiplier),
        LeakyReLU(slope: 0.2),
      ]
    }
    layers.append(
      Conv2d(
        inputChannels: filters * multiplier, outputChannels: 1, kernelSize: 4, padding: 1))
    model = Sequential(layers)
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    precondition(
      input.rank == 4 && input.shape[1] == inputChannels,
      "PatchDiscriminator expects [N, \(inputChannels), H, W], got \(input.shape)")
    return model(input)
  }

  public var children: [(name: String, layer: any Layer)] { [("model", model)] }
}

/// The 1×1 PatchGAN (the reference's `PixelDiscriminator`), `[N, Cin, H, W]` → `[N, 1, H, W]`
/// of logits: conv 1×1 → ndf (with bias), LeakyReLU 0.2, conv 1×1 → 2·ndf, norm,
/// LeakyReLU 0.2, conv 1×1 → 1; the last two convolutions carry a bias only with instance norm,
/// as in the reference. State names: `net.0.weight`, …
public final class PixelDiscriminator: Layer {
  public let configuration: DiscriminatorConfiguration
  public let inputChannels: Int
  /// The reference's `net`.
  public let net: Sequential
  public var isTraining = true

  public init(_ configuration: DiscriminatorConfiguration, inputChannels: Int) {
    precondition(
      configuration.filters > 0 && inputChannels > 0,
      "PixelDiscriminator: invalid sizes \(configuration), \(inputChannels) channels")
    self.configuration = configuration
    self.inputChannels = inputChannels
    let norm = configuration.norm
    let bias = norm.convolutionsHaveBias
    let filters = configuration.filters
    net = Sequential(
      Conv2d(inputChannels: inputChannels, outputChannels: filters, kernelSize: 1),
      LeakyReLU(slope: 0.2),
      Conv2d(inputChannels: filters, outputChannels: filters * 2, kernelSize: 1, hasBias: bias),
      norm.makeLayer(channels: filters * 2),
      LeakyReLU(slope: 0.2),
      Conv2d(inputChannels: filters * 2, outputChannels: 1, kernelSize: 1, hasBias: bias))
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    precondition(
      input.rank == 4 && input.shape[1] == inputChannels,
      "PixelDiscriminator expects [N, \(inputChannels), H, W], got \(input.shape)")
    return net(input)
  }

  public var children: [(name: String, layer: any Layer)] { [("net", net)] }
}

/// Builds the discriminator `configuration` describes, with zero weights.
public func makeDiscriminator(
  _ configuration: DiscriminatorConfiguration, inputChannels: Int
) -> any Layer {
  switch configuration.kind {
  case .basic, .nLayers: PatchDiscriminator(configuration, inputChannels: inputChannels)
  case .pixel: PixelDiscriminator(configuration, inputChannels: inputChannels)
  }
}
