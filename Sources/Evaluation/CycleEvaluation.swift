/// Evaluating a CycleGAN model on the test photos of both domains: cycle-reconstruction L1 and
/// the domain classifier's verdict on the translations.
import Foundation
import ImageIO
import Models
import NeuralNet
import Tensors

/// The size the generators see the test photos at.
public enum EvaluationSize: Sendable, Equatable, CustomStringConvertible {
  /// Each photo at its own size, reflection-padded to a multiple of 4 (and at least 8) as the
  /// generator needs; the error is measured on the photo's own pixels only.
  case original
  /// Each photo resized (bicubic, antialiased) to `side`×`side` first.
  case square(Int)

  public var description: String {
    switch self {
    case .original: return "original"
    case .square(let side): return "\(side)x\(side)"
    }
  }
}

/// The figures of one test split: photos of one domain taken to the other and back.
public struct SplitEvaluation: Sendable, Codable, Equatable {
  /// "A" or "B".
  public var split: String
  /// The domain of the photos and the domain they are translated to ("horse", "zebra").
  public var sourceDomain: String
  public var targetDomain: String
  /// The photos evaluated.
  public var images: Int
  /// The photos that could not be decoded and were left out of every figure.
  public var unreadable: [UnreadableImage]
  /// The mean over photos of each photo's mean absolute difference between it and its
  /// reconstruction (`G_B(G_A(x))` for A), in [-1, 1] units (so 2 is the largest possible).
  public var reconstructionL1: Double
  /// The largest per-photo value and the photo it came from.
  public var worstReconstructionL1: Double
  public var worstImage: String
  /// How many translations the classifier calls the target domain, if a classifier was given.
  public var translatedCalledTarget: Int?
  /// How many real photos of the split the classifier calls their own domain.
  public var realCalledSource: Int?

  /// `translatedCalledTarget / images`.
  public var translatedFraction: Double? {
    translatedCalledTarget.map { Double($0) / Double(max(images, 1)) }
  }
  /// `realCalledSource / images`: the classifier's accuracy on the real photos.
  public var realAccuracy: Double? {
    realCalledSource.map { Double($0) / Double(max(images, 1)) }
  }

  enum CodingKeys: String, CodingKey {
    case split, images, unreadable
    case sourceDomain = "source_domain"
    case targetDomain = "target_domain"
    case reconstructionL1 = "reconstruction_l1"
    case worstReconstructionL1 = "worst_reconstruction_l1"
    case worstImage = "worst_image"
    case translatedCalledTarget = "translated_called_target"
    case translatedFraction = "translated_called_target_fraction"
    case realCalledSource = "real_called_source"
    case realAccuracy = "real_accuracy"
  }

  public init(
    split: String, sourceDomain: String, targetDomain: String, images: Int,
    reconstructionL1: Double, worstReconstructionL1: Double, worstImage: String,
    translatedCalledTarget: Int?, realCalledSource: Int?, unreadable: [UnreadableImage] = []
  ) {
    self.split = split
    self.sourceDomain = sourceDomain
    self.targetDomain = targetDomain
    self.images = images
    self.unreadable = unreadable
    self.reconstructionL1 = reconstructionL1
    self.worstReconstructionL1 = worstReconstructionL1
    self.worstImage = worstImage
    self.translatedCalledTarget = translatedCalledTarget
    self.realCalledSource = realCalledSource
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    split = try container.decode(String.self, forKey: .split)
    sourceDomain = try container.decode(String.self, forKey: .sourceDomain)
    targetDomain = try container.decode(String.self, forKey: .targetDomain)
    images = try container.decode(Int.self, forKey: .images)
    unreadable =
      try container.decodeIfPresent([UnreadableImage].self, forKey: .unreadable) ?? []
    reconstructionL1 = try container.decode(Double.self, forKey: .reconstructionL1)
    worstReconstructionL1 = try container.decode(Double.self, forKey: .worstReconstructionL1)
    worstImage = try container.decode(String.self, forKey: .worstImage)
    translatedCalledTarget = try container.decodeIfPresent(
      Int.self, forKey: .translatedCalledTarget)
    realCalledSource = try container.decodeIfPresent(Int.self, forKey: .realCalledSource)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(split, forKey: .split)
    try container.encode(sourceDomain, forKey: .sourceDomain)
    try container.encode(targetDomain, forKey: .targetDomain)
    try container.encode(images, forKey: .images)
    try container.encode(unreadable, forKey: .unreadable)
    try container.encode(reconstructionL1, forKey: .reconstructionL1)
    try container.encode(worstReconstructionL1, forKey: .worstReconstructionL1)
    try container.encode(worstImage, forKey: .worstImage)
    try container.encodeIfPresent(translatedCalledTarget, forKey: .translatedCalledTarget)
    try container.encodeIfPresent(translatedFraction, forKey: .translatedFraction)
    try container.encodeIfPresent(realCalledSource, forKey: .realCalledSource)
    try container.encodeIfPresent(realAccuracy, forKey: .realAccuracy)
  }
}

/// The whole evaluation of a model, as `--report` writes it.
public struct EvaluationReport: Sendable, Codable, Equatable {
  public var model: String
  public var classifier: String?
  /// `original` or `SxS`.
  public var size: String
  public var splits: [SplitEvaluation]
  public var seconds: Double

  public init(
    model: String, classifier: String?, size: String, splits: [SplitEvaluation], seconds: Double
  ) {
    self.model = model
    self.classifier = classifier
    self.size = size
    self.splits = splits
    self.seconds = seconds
  }

  /// The report as pretty-printed JSON with sorted keys.
  public func jsonBytes() throws -> [UInt8] { try encodeJSON(self) }
}

/// Runs a model's two generators over test photos.
public struct CycleEvaluation {
  public let configuration: ModelConfiguration
  /// `G_A` (A → B) and `G_B` (B → A).
  public let generatorA: ResnetGenerator
  public let generatorB: ResnetGenerator
  public let size: EvaluationSize
  public let classifier: DomainClassifier?

  public init(
    configuration: ModelConfiguration, generatorA: ResnetGenerator,
    generatorB: ResnetGenerator, size: EvaluationSize, classifier: DomainClassifier?
  ) {
    self.configuration = configuration
    self.generatorA = generatorA
    self.generatorB = generatorB
    self.size = size
    self.classifier = classifier
  }

  /// Loads the generators of the model directory at `url`.
  public init(
    model url: URL, size: EvaluationSize, classifier: DomainClassifier?
  ) throws(EvaluationError) {
    let directory: ModelDirectory
    do {
      directory = try ModelDirectory.load(from: url, roles: [.generatorA, .generatorB])
    } catch {
      throw EvaluationError(.unusableModel, path: error.path, reason: error.reason)
    }
    guard let generatorA = directory.generator(.generatorA),
      let generatorB = directory.generator(.generatorB)
    else {
      throw EvaluationError(
        .unusableModel, path: url.path, reason: "the model's generators could not be loaded")
    }
    self.init(
      configuration: directory.configuration, generatorA: generatorA, generatorB: generatorB,
      size: size, classifier: classifier)
  }

  /// Evaluates the split `split` ("A": photos of domain A through `G_A` then `G_B`; "B": the
  /// other way). `progress` is called after each photo with the count done. A photo that
  /// cannot be decoded is left out of the figures and listed in `unreadable`; a folder of
  /// which none can be decoded is an error.
  public func evaluate(
    split: String, folder: ImageFolder, progress: (Int) -> Void = { _ in }
  ) throws(EvaluationError) -> SplitEvaluation {
    precondition(split == "A" || split == "B", "split must be A or B, got \(split)")
    let forward = split == "A" ? generatorA : generatorB
    let backward = split == "A" ? generatorB : generatorA
    let sourceChannels = split == "A" ? configuration.channelsA : configuration.channelsB

    var l1Sum = 0.0
    var worst = (value: -1.0, image: "")
    var classifierInputsTranslated: [Tensor] = []
    var classifierInputsReal: [Tensor] = []
    var unreadable: [UnreadableImage] = []
    for index in 0..<folder.count {
      defer { progress(index + 1) }
      var image: Image
      do throws(EvaluationError) {
        image = try folder.image(at: index)
      } catch {
        unreadable.append(UnreadableImage(error))
        continue
      }
      if case .square(let side) = size, image.width != side || image.height != side {
        image = image.resized(width: side, height: side)
      }

      // Translation and reconstruction on the padded photo: [1, C, H + pad, W + pad].
      let padding = generatorPadding(width: image.width, height: image.height)
      let input = image.reflectPadded(padding).tensor(channels: sourceChannels)
      let (translated, reconstructed) = withoutGradients {
        let translated = forward(input)
        return (translated, backward(translated))
      }
      let l1 = meanAbsoluteDifference(reconstructed, input, inside: padding)
      l1Sum += l1
      if l1 > worst.value { worst = (l1, folder.files[index].description) }

      if let classifier {
        let translatedImage = Image(tensor: translated).removingPadding(padding)
        classifierInputsTranslated.append(classifier.configuration.input(for: translatedImage))
        classifierInputsReal.append(classifier.configuration.input(for: image))
      }
    }
    let evaluated = folder.count - unreadable.count
    guard evaluated > 0 else {
      throw EvaluationError(
        .unreadableImage, path: folder.url.path,
        reason: noneDecoded(folder.count, first: unreadable[0]) + " (split \(split))")
    }

    // The classifier's verdicts: the target domain is B for split A, A for split B.
    var translatedCalledTarget: Int?
    var realCalledSource: Int?
    if let classifier {
      let translatedB = classifier.callsDomainB(classifierInputsTranslated)
      let realB = classifier.callsDomainB(classifierInputsReal)
      translatedCalledTarget = translatedB.filter { $0 == (split == "A") }.count
      realCalledSource = realB.filter { $0 == (split == "B") }.count
    }

    return SplitEvaluation(
      split: split, sourceDomain: split == "A" ? configuration.domainA : configuration.domainB,
      targetDomain: split == "A" ? configuration.domainB : configuration.domainA,
      images: evaluated, reconstructionL1: l1Sum / Double(evaluated),
      worstReconstructionL1: worst.value, worstImage: worst.image,
      translatedCalledTarget: translatedCalledTarget, realCalledSource: realCalledSource,
      unreadable: unreadable)
  }
}

/// `none of its 3 images could be decoded; the first, a.png: damaged PNG: …`, for a folder of
/// which no photo could be decoded (`its one image, a.png, could not …` for a single one).
public func noneDecoded(_ count: Int, first: UnreadableImage) -> String {
  let name = first.path.split(separator: "/").last.map(String.init) ?? first.path
  if count == 1 { return "its one image, \(name), could not be decoded: \(first.reason)" }
  return "none of its \(count) images could be decoded; the first, \(name): \(first.reason)"
}

/// The reflection padding that brings a `width`×`height` image to multiples of 4 and at least
/// 8 on each side, as the ResNet generator needs; split evenly, the odd pixel right or bottom.
public func generatorPadding(width: Int, height: Int) -> Padding {
  func extra(_ extent: Int) -> Int { max(8, (extent + 3) / 4 * 4) - extent }
  let x = extra(width)
  let y = extra(height)
  return Padding(left: x / 2, right: x - x / 2, top: y / 2, bottom: y - y / 2)
}

/// `mean(|a − b|)` over the pixels of `[1, C, H, W]` tensors that lie inside `padding` (the
/// photo's own pixels), every channel, summed in double precision.
public func meanAbsoluteDifference(_ a: Tensor, _ b: Tensor, inside padding: Padding) -> Double {
  precondition(
    a.shape == b.shape && a.rank == 4 && a.shape[0] == 1,
    "meanAbsoluteDifference needs two [1, C, H, W] tensors of one shape, got \(a.shape) and "
      + "\(b.shape)")
  let (channels, height, width) = (a.shape[1], a.shape[2], a.shape[3])
  let rows = padding.top..<(height - padding.bottom)
  let columns = padding.left..<(width - padding.right)
  precondition(
    !rows.isEmpty && !columns.isEmpty,
    "padding \(padding) leaves nothing of a \(width)×\(height) plane")
  var sum = 0.0
  a.withUnsafeBufferPointer { first in
    b.withUnsafeBufferPointer { second in
      for channel in 0..<channels {
        for row in rows {
          let start = (channel * height + row) * width
          for column in columns {
            sum += Double(abs(first[start + column] - second[start + column]))
          }
        }
      }
    }
  }
  return sum / Double(channels * rows.count * columns.count)
}

extension EvaluationReport {
  /// The report as a table for the terminal: a few lines naming the model, the size and the
  /// classifier, then one row per split.
  ///
  ///     split  photos  translation     cycle L1  worst L1  called target   real called right
  ///     A         120  horse → zebra     0.1523    0.2811  80.0% (96/120)  94.2% (113/120)
  public var tableLines: [String] {
    var lines = [
      "model       \(model)",
      "size        \(size == "original" ? "each photo's own size, padded to ×4" : size)",
      "classifier  \(classifier ?? "none (no domain score; give --classifier DIR)")",
      "",
    ]
    let header = [
      "split", "photos", "translation", "cycle L1", "worst L1", "called target",
      "real called right",
    ]
    var rows = [header]
    for split in splits {
      rows.append([
        split.split, String(split.images), "\(split.sourceDomain) → \(split.targetDomain)",
        String(format: "%.4f", split.reconstructionL1),
        String(format: "%.4f", split.worstReconstructionL1),
        percentage(split.translatedCalledTarget, of: split.images),
        percentage(split.realCalledSource, of: split.images),
      ])
    }
    let widths = header.indices.map { column in
      rows.map { $0[column].count }.max() ?? 0
    }
    let rightAligned: Set<Int> = [1, 3, 4]
    for row in rows {
      let cells = row.enumerated().map { column, cell in
        let fill = String(repeating: " ", count: widths[column] - cell.count)
        return rightAligned.contains(column) ? fill + cell : cell + fill
      }
      lines.append(cells.joined(separator: "  ").trimmingTrailingSpaces())
    }
    lines.append("")
    lines.append(
      "cycle L1: mean |x − G_back(G_forth(x))| per photo in [-1, 1] units (0 perfect, 2 worst), "
        + "averaged over photos")
    if classifier != nil {
      lines.append(
        "called target: translations the classifier takes for the target domain; "
          + "real called right: its accuracy on the real photos of the split")
    }
    let unreadable = splits.flatMap(\.unreadable)
    if !unreadable.isEmpty {
      lines.append("")
      lines.append(
        "left out of the figures, \(unreadable.count) "
          + "\(unreadable.count == 1 ? "photo" : "photos") that could not be decoded:")
      lines += unreadable.map { "  \($0)" }
    }
    return lines
  }
}

/// `80.0% (96/120)`, or `-` without a count.
private func percentage(_ count: Int?, of total: Int) -> String {
  guard let count else { return "-" }
  let fraction = total == 0 ? 0 : 100 * Double(count) / Double(total)
  return String(format: "%.1f%% (%d/%d)", fraction, count, total)
}

extension String {
  fileprivate func trimmingTrailingSpaces() -> String {
    var result = self
    while result.last == " " { result.removeLast() }
    return result
  }
}
