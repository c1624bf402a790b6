/// A trained CycleGAN generator as an `ImageTranslator`, and choosing it from a model
/// directory by direction (`AtoB`, `BtoA`) or by the name of the domain to translate to.
import Checkpoints
import Foundation
import Models
import NeuralNet
import Tensors

/// Which generator of a model translates: `G_A` (A to B) or `G_B` (B to A).
public enum TranslationDirection: String, Sendable, CaseIterable {
  case aToB = "AtoB"
  case bToA = "BtoA"

  /// The generator that translates this way.
  public var generator: NetworkRole { self == .aToB ? .generatorA : .generatorB }
}

/// Why a model cannot be used for translation.
public enum ModelChoiceError: Error, Equatable, CustomStringConvertible {
  /// `--to` names no domain of the model.
  case unknownDomain(String, domainA: String, domainB: String)
  /// `--to` and `--direction` disagree.
  case directionContradictsDomain(TranslationDirection, domain: String)
  /// A direction was asked of a single generator file, which translates one way only.
  case directionOfSingleGenerator(String)

  public var description: String {
    switch self {
    case .unknownDomain(let name, let a, let b) where a == b:
      return
        "the model names both its domains '\(a)', so --to \(name) cannot choose a direction; "
        + "write --direction AtoB or --direction BtoA instead"
    case .unknownDomain(let name, let a, let b):
      return
        "the model's domains are '\(a)' (A) and '\(b)' (B), not '\(name)'; write --to \(b) "
        + "for A to B or --to \(a) for B to A"
    case .directionContradictsDomain(let direction, let domain):
      return "--direction \(direction.rawValue) does not translate to '\(domain)'; drop one of them"
    case .directionOfSingleGenerator(let path):
      return
        "\(path) is a single generator, which translates one way only; drop --direction and "
        + "--to, or give the model directory"
    }
  }
}

/// A ResNet generator translating one way, run in inference mode (nothing recorded for
/// gradients, so each activation is freed as soon as the next layer has read it).
public final class GeneratorTranslator: ImageTranslator {
  public let generator: ResnetGenerator
  public var inputChannels: Int { generator.inputChannels }
  public var outputChannels: Int { generator.outputChannels }
  /// Two stride-2 stages: the output has the input's size when H and W are multiples of 4.
  public let sizeMultiple = 4
  /// The bottleneck's reflection padding (1 pixel) needs planes of at least 2 at H/4.
  public let minimumSize = 8

  public init(_ generator: ResnetGenerator) {
    generator.setTraining(false)
    self.generator = generator
  }

  /// Floats of one band of the head's padded input (see `translate`); 4 Mi floats (16 MiB)
  /// unless a test asks for narrow bands.
  public var headBandFloats = 1 << 22

  /// Weights and scratch buffers, plus per padded pixel the largest full-resolution
  /// activations alive together (a stride-2 stage's input and output, 1.5·`ngf` channels) and
  /// the pipeline's own copies of the image (decoded, padded, tensor, output). Measured with
  /// bench/translation.py at ngf 64: 412 MiB peak at 1024×768 (519 MiB estimated) and
  /// 4.54 GiB at 4000×3000 (5.35 GiB estimated); before the in-place and banded steps of
  /// `translate` they were 526 MiB and 5.98 GiB.
  public var memoryEstimate: MemoryEstimate {
    let filters = generator.configuration.filters
    let floatsPerPixel = 3 * filters / 2 + 4 * max(inputChannels, outputChannels) + 8
    let scratch = 96 << 20  // im2col bands, the head's band, OpenBLAS buffers
    return MemoryEstimate(
      fixedBytes: generator.parameterCount * 4 + scratch + 8 * headBandFloats,
      bytesPerPixel: 4 * floatsPerPixel)
  }

  /// Runs the generator's layers in inference mode one by one, as its `Sequential` would, but
  /// owning each activation so that memory stays near one full-resolution activation: an
  /// instance norm (without affine parameters) followed by a ReLU runs fused in the storage
  /// of its input, and the head (reflection pad, 7×7 convolution, tanh) runs over bands of
  /// rows instead of padding the whole `[1, ngf, H, W]` activation. The results are those of
  /// `generator(image)` (convolutions are local, so a band of rows gives the same rows).
  public func translate(_ image: Tensor) -> Tensor {
    withoutGradients {
      let layers = generator.model.layers
      var x = image
      var index = 0
      while index < layers.count {
        let layer = layers[index]
        if let norm = layer as? InstanceNorm2d, norm.weight == nil,
          index + 1 < layers.count, layers[index + 1] is ReLU
        {
          x = instanceNormRelu2d(consume x, epsilon: norm.epsilon)
          index += 2
          continue
        }
        if index == layers.count - 3, let pad = layer as? Pad2d, pad.mode == .reflection,
          let convolution = layers[index + 1] as? Conv2d, layers[index + 2] is Tanh,
          convolution.stride == 1, convolution.padding == 0, x.shape[0] == 1
        {
          return bandedHead(x, pad: pad, convolution: convolution)
        }
        x = layer(consume x)
        index += 1
      }
      return x
    }
  }

  /// `tanh(convolution(reflectionPad(x)))` for `x` `[1, C, H, W]`, computed over bands of
  /// output rows: each band copies its rows of `x` with the rows above and below that the
  /// kernel needs (reflected at the top and bottom edges), pads left and right, convolves.
  /// Returns `[1, Cout, H, W]`.
  func bandedHead(_ x: Tensor, pad: Pad2d, convolution: Conv2d) -> Tensor {
    let (channels, height, width) = (x.shape[1], x.shape[2], x.shape[3])
    let outputs = convolution.outputChannels
    let (above, below) = (pad.top, pad.bottom)
    precondition(
      above < height && below < height && pad.left < width && pad.right < width,
      "head padding \(pad.top), \(pad.bottom) needs more than \(height)×\(width)")
    let floatsPerRow = channels * (width + pad.left + pad.right)
    let rowsPerBand = max(1, min(height, headBandFloats / floatsPerRow - above - below))

    var result = [Float](repeating: 0, count: outputs * height * width)
    var start = 0
    while start < height {
      let end = min(height, start + rowsPerBand)
      let bandRows = end - start + above + below

      // Rows start - above ..< end + below of x, reflected about the first and last rows.
      var band = [Float](repeating: 0, count: channels * bandRows * width)
      x.withUnsafeBufferPointer { source in
        band.withUnsafeMutableBufferPointer { target in
          for channel in 0..<channels {
            for row in 0..<bandRows {
              var sourceRow = start - above + row
              if sourceRow < 0 { sourceRow = -sourceRow }
              if sourceRow >= height { sourceRow = 2 * (height - 1) - sourceRow }
              let from = (channel * height + sourceRow) * width
              let to = (channel * bandRows + row) * width
              for column in 0..<width { target[to + column] = source[from + column] }
            }
          }
        }
      }
      let padded = reflectionPad2d(
        Tensor(shape: [1, channels, bandRows, width], scalars: band), left: pad.left,
        right: pad.right, top: 0, bottom: 0)
      let rows = tanh(convolution(padded))  // [1, outputs, end - start, width]

      rows.withUnsafeBufferPointer { source in
        for channel in 0..<outputs {
          let from = channel * (end - start) * width
          let to = (channel * height + start) * width
          for offset in 0..<((end - start) * width) { result[to + offset] = source[from + offset] }
        }
      }
      start = end
    }
    return Tensor(shape: [1, outputs, height, width], scalars: result)
  }
}

/// A model directory opened for translation: its configuration and one generator.
public struct TranslationModel {
  public let configuration: ModelConfiguration
  public let direction: TranslationDirection
  public let translator: GeneratorTranslator

  /// The domain translated from and the one translated to.
  public var domains: (from: String, to: String) {
    direction == .aToB
      ? (configuration.domainA, configuration.domainB)
      : (configuration.domainB, configuration.domainA)
  }

  /// The direction asked for by `--direction` and/or `--to` (default A to B).
  public static func chooseDirection(
    _ direction: TranslationDirection?, toDomain domain: String?,
    configuration: ModelConfiguration
  ) throws(ModelChoiceError) -> TranslationDirection {
    guard let domain else { return direction ?? .aToB }
    let named: TranslationDirection
    if domain == configuration.domainB && domain != configuration.domainA {
      named = .aToB
    } else if domain == configuration.domainA && domain != configuration.domainB {
      named = .bToA
    } else {
      throw .unknownDomain(
        domain, domainA: configuration.domainA, domainB: configuration.domainB)
    }
    if let direction, direction != named {
      throw .directionContradictsDomain(direction, domain: domain)
    }
    return named
  }

  /// Opens the model at `url`, loading one generator: from a model directory the one of
  /// `direction` (or of the domain named `domain`), from a single generator file (the
  /// reference's `.pth`, or safetensors) that file, whose architecture its keys and shapes tell.
  public static func load(
    from url: URL, direction: TranslationDirection?, toDomain domain: String?
  ) throws -> TranslationModel {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder),
      !isFolder.boolValue
    {
      guard direction == nil && domain == nil else {
        throw ModelChoiceError.directionOfSingleGenerator(url.path)
      }
      return try loadGeneratorFile(url)
    }

    let configuration = try ModelDirectory.readConfiguration(at: url)
    let chosen = try chooseDirection(direction, toDomain: domain, configuration: configuration)
    let model = try ModelDirectory.load(from: url, roles: [chosen.generator])
    guard let generator = model.generator(chosen.generator) else {
      throw ModelDirectoryError(
        .missingNetwork, path: url.path,
        reason: "\(chosen.generator.rawValue) is not a ResNet generator")
    }
    return TranslationModel(
      configuration: model.configuration, direction: chosen,
      translator: GeneratorTranslator(generator))
  }

  /// A single generator file as a model translating from "input" to "output".
  static func loadGeneratorFile(_ url: URL) throws -> TranslationModel {
    let weights = try GeneratorWeights(contentsOf: url)
    let layout = weights.layout
    guard layout.upsampling == .transposedConvolution else {
      throw CheckpointError(
        .unsupported, path: url.path,
        reason: "its up stages upsample before a convolution, and the weights cannot tell "
          + "nearest from bilinear upsampling; translate with the model directory whose "
          + "config.json says which")
    }
    let norm: NormKind
    switch layout.norm {
    case .instance: norm = .instance
    case .batch: norm = .batch
    case .none: norm = .none
    }
    let generatorConfiguration = GeneratorConfiguration(
      filters: layout.ngf, residualBlocks: layout.blocks, norm: norm, dropout: layout.dropout,
      upsampling: .transpose)
    let generator = ResnetGenerator(
      generatorConfiguration, inputChannels: layout.inputChannels,
      outputChannels: layout.outputChannels)
    do {
      try generator.loadStateDictionary(weights.tensors)
    } catch {
      throw CheckpointError(.architectureMismatch, path: url.path, reason: error.description)
    }
    let configuration = ModelConfiguration(
      generator: generatorConfiguration, discriminator: nil,
      channelsA: layout.inputChannels, channelsB: layout.outputChannels, domainA: "input",
      domainB: "output", networks: [.generatorA])
    return TranslationModel(
      configuration: configuration, direction: .aToB, translator: GeneratorTranslator(generator))
  }
}
