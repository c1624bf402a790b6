/// `transmute classifier train|test`: the domain classifier behind `transmute evaluate`.
import Evaluation
import Foundation
import ImageIO
import Tensors

/// Trains a small CNN to tell domain A photos from domain B photos (with Transmute's own layers
/// and Adam), or measures a trained one on labelled photos.
enum ClassifierCommand: Command {
  static let name = "classifier"
  static let summary = "Train or test the domain classifier that 'evaluate' uses."
  static let synopsis =
    "classifier train --a-train DIR --b-train DIR --output DIR [--a-test DIR --b-test DIR] "
    + "[OPTIONS]\n       transmute classifier test --classifier DIR --a-test DIR --b-test DIR"
  static let discussion = """
    'train' fits a small CNN (4×4 stride-2 convolutions with LeakyReLU, a 1×1 convolution and \
    a mean as the head) to call real photos of --a-train domain A and those of --b-train \
    domain B, with Adam, random crops and flips, equal numbers of each domain per step. Train \
    it on training photos only, never on the photos you evaluate on. With --a-test and \
    --b-test its accuracy on them is printed and stored in its config.json. At 64×64 it trains \
    on the 2401 horse2zebra training photos in a few minutes on two cores.
    'test' prints a saved classifier's accuracy on --a-test and --b-test.
    A photo that cannot be decoded is left out with a warning; the exit status is then 1.
    """
  static let options: [OptionSpec] = [
    .value("a-train", "DIR", help: "Training photos of domain A (train)."),
    .value("b-train", "DIR", help: "Training photos of domain B (train)."),
    .value("a-test", "DIR", help: "Held-out photos of domain A, for the accuracy."),
    .value("b-test", "DIR", help: "Held-out photos of domain B, for the accuracy."),
    .value("output", "DIR", help: "Where to write the classifier (train): a new or empty folder."),
    .value("classifier", "DIR", help: "The classifier to test (test)."),
    .value("domain-a", "NAME", default: "A", help: "The name of domain A (e.g. horse)."),
    .value("domain-b", "NAME", default: "B", help: "The name of domain B (e.g. zebra)."),
    .value("size", "N", default: "64", help: "The classifier's input side (a multiple of 8)."),
    .value(
      "filters", "N,N,...", default: "32,64,128",
      help: "Output channels of each stride-2 convolution."),
    .value("epochs", "N", default: "10", help: "Passes over the larger domain."),
    .value("batch-size", "N", default: "32", help: "Photos per step, half of each domain."),
    .value("lr", "RATE", default: "0.002", help: "Adam's initial step size (cosine decay)."),
    .value("seed", "N", default: "0", help: "Seeds the weights, the order and the crops."),
    .value("limit", "N", help: "Use only the first N photos of each folder."),
    .flag("quiet", help: "Print no progress."),
  ]

  static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
    guard let action = arguments.positionals.first, arguments.positionals.count == 1,
      action == "train" || action == "test"
    else {
      throw UsageError(
        "'classifier' needs one action, train or test",
        hint: "write: transmute classifier train --a-train DIR --b-train DIR --output DIR")
    }
    return action == "train"
      ? try train(arguments, console: console) : try test(arguments, console: console)
  }

  static func train(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
    let output = try arguments.required("output", placeholder: "DIR")
    // A trained classifier (say models/horse-zebra-classifier) is never overwritten.
    try ImportCommand.checkOutputFolder(output)
    let limit = try arguments.int("limit", in: 1...Int.max)
    let side = try arguments.int("size", in: 8...512) ?? 64
    let filterText = arguments.string("filters") ?? "32,64,128"
    // "8,,8" and "8," are mistakes, not two filters.
    let parts = filterText.split(separator: ",", omittingEmptySubsequences: false)
    let filters = parts.compactMap { Int($0) }
    guard !filters.isEmpty, filters.count == parts.count,
      filters.allSatisfy({ (1...1024).contains($0) })
    else {
      throw UsageError(
        "option '--filters' needs counts from 1 to 1024 separated by commas, got '\(filterText)'")
    }
    let configuration = ClassifierConfiguration(
      imageSize: side, filters: filters, domainA: arguments.string("domain-a") ?? "A",
      domainB: arguments.string("domain-b") ?? "B")
    if let problem = configuration.problem {
      throw UsageError("options '--size' and '--filters' do not fit: \(problem)")
    }
    let options = ClassifierTrainingOptions(
      epochs: try arguments.int("epochs", in: 1...10_000) ?? 10,
      batchSize: try evenBatchSize(arguments),
      learningRate: try arguments.double("lr", in: 1e-7...1) ?? 2e-3,
      seed: UInt64(try arguments.int("seed", in: 0...Int.max) ?? 0))

    // Every folder is checked before the work starts.
    let trainA = try requiredFolder(arguments, "a-train", limit: limit, console: console)
    let trainB = try requiredFolder(arguments, "b-train", limit: limit, console: console)
    let testA = try folder(arguments, "a-test", limit: limit, console: console)
    let testB = try folder(arguments, "b-test", limit: limit, console: console)
    guard (testA == nil) == (testB == nil) else {
      throw UsageError("give both --a-test and --b-test, or neither")
    }
    let quiet = arguments.flag("quiet")

    // Photos at the load size, then training.
    var unreadable: [UnreadableImage] = []
    let imagesA = try load(
      trainA, "a-train", { configuration.loaded($0) }, console, quiet, &unreadable)
    let imagesB = try load(
      trainB, "b-train", { configuration.loaded($0) }, console, quiet, &unreadable)
    let started = Date()
    let classifier = trainClassifier(
      imagesA: imagesA, imagesB: imagesB, configuration: configuration, options: options
    ) { report in
      if !quiet {
        console.error(
          "epoch \(report.epoch)/\(report.epochs) "
            + String(
              format: "loss %.4f training accuracy %.3f lr %.2e", report.loss,
              report.trainingAccuracy, report.learningRate)
            + " elapsed \(formatDuration(Date().timeIntervalSince(started)))")
      }
    }
    let seconds = Date().timeIntervalSince(started)

    // The accuracy on held-out photos, stored with the weights.
    classifier.configuration.training = options.record.merging(
      [
        "training_photos_A": String(imagesA.count), "training_photos_B": String(imagesB.count),
        "seconds": String(format: "%.0f", seconds),
      ], uniquingKeysWith: { _, new in new })
    if let testA, let testB {
      let accuracy = try measure(classifier, testA, testB, console, quiet, &unreadable)
      classifier.configuration.testAccuracy = accuracy
      printAccuracy(accuracy, configuration: configuration, console: console)
    }
    try classifier.save(to: URL(fileURLWithPath: output))
    console.error(
      "classifier written to \(output) (\(classifier.parameterCount) parameters, trained in "
        + "\(formatDuration(seconds)))")
    return reportUnreadable(unreadable, console: console)
  }

  static func test(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
    let path = try arguments.required("classifier", placeholder: "DIR")
    let limit = try arguments.int("limit", in: 1...Int.max)
    let classifier = try DomainClassifier.load(from: URL(fileURLWithPath: path))
    let testA = try requiredFolder(arguments, "a-test", limit: limit, console: console)
    let testB = try requiredFolder(arguments, "b-test", limit: limit, console: console)
    var unreadable: [UnreadableImage] = []
    let accuracy = try measure(
      classifier, testA, testB, console, arguments.flag("quiet"), &unreadable)
    printAccuracy(accuracy, configuration: classifier.configuration, console: console)
    return reportUnreadable(unreadable, console: console)
  }

  /// `--batch-size`, which must be even.
  static func evenBatchSize(_ arguments: ParsedArguments) throws(UsageError) -> Int {
    let size = try arguments.int("batch-size", in: 2...4096) ?? 32
    guard size % 2 == 0 else {
      throw UsageError("option '--batch-size' must be even (half of each domain), got \(size)")
    }
    return size
  }

  /// The folder of option `name`, which the action cannot do without.
  static func requiredFolder(
    _ arguments: ParsedArguments, _ name: String, limit: Int?, console: Console
  ) throws -> ImageFolder {
    guard let folder = try folder(arguments, name, limit: limit, console: console) else {
      throw UsageError("missing option '--\(name)'", hint: "write --\(name) DIR")
    }
    return folder
  }

  /// The folder of option `name`, or `nil` when the option is absent.
  static func folder(
    _ arguments: ParsedArguments, _ name: String, limit: Int?, console: Console
  ) throws -> ImageFolder? {
    guard let path = arguments.string(name) else { return nil }
    let folder = try ImageFolder(URL(fileURLWithPath: path), role: "--\(name)")
    for problem in folder.problems { console.error("warning: \(problem)") }
    return folder.prefix(limit)
  }

  /// Every photo of `folder`, decoded and passed through `transform` on two threads. A photo
  /// that cannot be decoded is left out with a warning and added to `unreadable`; a folder of
  /// which none can be decoded is an error.
  static func load<Output: Sendable>(
    _ folder: ImageFolder, _ name: String, _ transform: @escaping @Sendable (Image) -> Output,
    _ console: Console, _ quiet: Bool, _ unreadable: inout [UnreadableImage]
  ) throws -> [Output] {
    let progress = ProgressReporter(
      console: console, label: "load \(name)", total: folder.count, unit: "img", quiet: quiet)
    let loaded = folder.map(workers: 2, transform) { _ in progress.advance() }
    progress.finish()
    for photo in loaded.unreadable { console.error("warning: left out \(photo)") }
    unreadable += loaded.unreadable
    guard !loaded.outputs.isEmpty else {
      throw EvaluationError(
        .unreadableImage, path: folder.url.path,
        reason: noneDecoded(folder.count, first: loaded.unreadable[0]) + " (given as --\(name))")
    }
    return loaded.outputs
  }

  /// Exit status 1 and a closing line when photos were left out, 0 otherwise.
  static func reportUnreadable(_ unreadable: [UnreadableImage], console: Console) -> Int32 {
    guard !unreadable.isEmpty else { return 0 }
    console.error(
      "\(unreadable.count) \(unreadable.count == 1 ? "photo" : "photos") could not be decoded "
        + "and \(unreadable.count == 1 ? "was" : "were") left out:")
    for photo in unreadable { console.error("  \(photo)") }
    return 1
  }

  static func measure(
    _ classifier: DomainClassifier, _ folderA: ImageFolder, _ folderB: ImageFolder,
    _ console: Console, _ quiet: Bool, _ unreadable: inout [UnreadableImage]
  ) throws -> ClassifierAccuracy {
    let configuration = classifier.configuration
    let inputsA = try load(
      folderA, "a-test", { configuration.input(for: $0) }, console, quiet, &unreadable)
    let inputsB = try load(
      folderB, "b-test", { configuration.input(for: $0) }, console, quiet, &unreadable)
    return measureAccuracy(of: classifier, inputsA: inputsA, inputsB: inputsB)
  }

  static func printAccuracy(
    _ accuracy: ClassifierAccuracy, configuration: ClassifierConfiguration, console: Console
  ) {
    func percent(_ fraction: Double) -> String { String(format: "%.1f%%", 100 * fraction) }
    console.out(
      "accuracy on \(configuration.domainA) (A) \(percent(accuracy.accuracyA)) "
        + "(\(accuracy.correctA)/\(accuracy.countA)), on \(configuration.domainB) (B) "
        + "\(percent(accuracy.accuracyB)) (\(accuracy.correctB)/\(accuracy.countB)), overall "
        + percent(accuracy.accuracy))
  }
}
