/// `transmute evaluate`: cycle-reconstruction L1 and the domain score of a model on test photos.
import Checkpoints
import Evaluation
import Foundation
import Models

/// Runs both generators of a model over the test photos of each domain and prints, per split,
/// the cycle-reconstruction L1 and, with a classifier, how many translations it takes for the
/// other domain beside its accuracy on the real photos. `--report` writes the same as JSON.
enum EvaluateCommand: Command {
  static let name = "evaluate"
  static let summary = "Measure a model on test photos: cycle L1 and a domain classifier's verdict."
  static let synopsis =
    "evaluate --model DIR --a DIR --b DIR [--classifier DIR] [--size model|original|N] "
    + "[--report FILE]"
  static let discussion = """
    For the photos of --a, G_A translates each to domain B and G_B takes it back; the cycle L1 \
    is the mean absolute difference between a photo and its reconstruction in [-1, 1] units \
    (0 is perfect, 2 the largest possible), averaged over the photos. --b is the same the other \
    way. With --classifier (made by 'transmute classifier train'), each translation is \
    classified too: the table gives the share of translated A photos called B (and of \
    translated B called A) beside the classifier's accuracy on the real photos, which bounds \
    what the first figure can mean. Give --a or --b alone to evaluate one direction. A photo \
    that cannot be decoded is left out of the figures and listed after the table, and the exit \
    status is then 1.
    """
  static let options: [OptionSpec] = [
    .value("model", "DIR", help: "The model directory (config.json, G_A and G_B)."),
    .value("a", "DIR", help: "Test photos of domain A (e.g. horse2zebra/testA)."),
    .value("b", "DIR", help: "Test photos of domain B (e.g. horse2zebra/testB)."),
    .value(
      "classifier", "DIR",
      help: "A domain classifier directory, for the domain score (e.g. "
        + "models/horse-zebra-classifier)."),
    .value(
      "size", "model|original|N", default: "model",
      help: "Photo size for the generators: the model's image_size from config.json (photos "
        + "resized to N×N; its own size when config.json has none), each photo's own size "
        + "(padded to ×4), or N×N."),
    .value("limit", "N", help: "Evaluate only the first N photos of each folder."),
    .value("report", "FILE", help: "Also write the figures as JSON to FILE (atomically)."),
    .flag("quiet", help: "Print no progress."),
  ]

  static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
    guard arguments.positionals.isEmpty else {
      throw UsageError(
        "'evaluate' takes no positional arguments, got '\(arguments.positionals[0])'",
        hint: "write --model DIR --a DIR --b DIR")
    }
    let modelPath = try arguments.required("model", placeholder: "DIR")
    let folderA = arguments.string("a")
    let folderB = arguments.string("b")
    guard folderA != nil || folderB != nil else {
      throw UsageError(
        "'evaluate' needs test photos", hint: "write --a DIR (domain A), --b DIR, or both")
    }
    let limit = try arguments.int("limit", in: 1...Int.max)
    let sizeText = arguments.string("size") ?? "model"
    var size: EvaluationSize? = nil
    switch sizeText {
    case "model": size = nil
    case "original": size = .original
    default:
      guard let side = Int(sizeText), (8...4096).contains(side) else {
        throw UsageError(
          "option '--size' must be model, original or a side from 8 to 4096, got '\(sizeText)'")
      }
      size = .square(side)
    }

    // Check every input before the work starts.
    var splits: [(name: String, folder: ImageFolder)] = []
    for (name, path) in [("A", folderA), ("B", folderB)] {
      guard let path else { continue }
      let folder = try ImageFolder(URL(fileURLWithPath: path), role: "--\(name.lowercased())")
      for problem in folder.problems { console.error("warning: \(problem)") }
      splits.append((name, folder.prefix(limit)))
    }
    if let reportPath = arguments.string("report") {
      try checkReportDestination(reportPath)
    }
    let classifierPath = arguments.string("classifier")
    let classifier = try classifierPath.map { path throws(EvaluationError) in
      try DomainClassifier.load(from: URL(fileURLWithPath: path))
    }
    let modelURL = URL(fileURLWithPath: modelPath)
    let configuration = try loadConfiguration(modelURL)
    let resolvedSize = size ?? configuration.imageSize.map { .square($0) } ?? .original
    let evaluation = try CycleEvaluation(
      model: modelURL, size: resolvedSize, classifier: classifier)

    // Each split: both generators over every photo.
    let started = Date()
    var results: [SplitEvaluation] = []
    for (name, folder) in splits {
      let progress = ProgressReporter(
        console: console, label: "evaluate \(name)", total: folder.count, unit: "img",
        quiet: arguments.flag("quiet"))
      results.append(
        try evaluation.evaluate(split: name, folder: folder) { _ in progress.advance() })
      progress.finish()
    }

    let report = EvaluationReport(
      model: modelPath, classifier: classifierPath, size: resolvedSize.description,
      splits: results, seconds: Date().timeIntervalSince(started))
    for line in report.tableLines { console.out(line) }
    if let reportPath = arguments.string("report") {
      do {
        try AtomicFile.write(try report.jsonBytes(), to: URL(fileURLWithPath: reportPath))
      } catch let error as CheckpointError {
        throw EvaluationError(.unwritable, path: error.path, reason: error.reason)
      }
      console.error("report written to \(reportPath)")
    }
    return results.allSatisfy { $0.unreadable.isEmpty } ? 0 : 1
  }

  /// Refuses a `--report` path whose folder does not exist or that is itself a folder, so
  /// that a long evaluation does not end without its report.
  static func checkReportDestination(_ path: String) throws(EvaluationError) {
    let url = URL(fileURLWithPath: path)
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
      throw EvaluationError(.unwritable, path: path, reason: "it is a folder; give a file name")
    }
    let folder = url.deletingLastPathComponent().path
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder),
      isFolder.boolValue
    else {
      throw EvaluationError(.unwritable, path: path, reason: "its folder \(folder) does not exist")
    }
  }

  /// The model's `config.json`, read before anything heavy is loaded.
  static func loadConfiguration(_ url: URL) throws(EvaluationError) -> ModelConfiguration {
    do {
      return try ModelDirectory.readConfiguration(at: url)
    } catch {
      throw EvaluationError(.unusableModel, path: error.path, reason: error.reason)
    }
  }
}
