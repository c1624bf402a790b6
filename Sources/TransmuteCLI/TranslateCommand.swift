/// `transmute translate`: one photo or a whole folder tree through a trained generator.
import Foundation
import ImageIO
import Training
import Translation

/// Translates files with a model directory's generator, mirroring folders, reporting bad files
/// and going on. Exits with status 1 when any file failed, 2 for a bad call.
enum TranslateCommand: Command {
  static let name = "translate"
  static let summary = "Translate a photo or a folder tree with a trained model."
  static let synopsis =
    "translate --model DIR --input FILE|DIR --output FILE|DIR [--direction AtoB|BtoA | --to NAME]"
  static let discussion = """
    A folder is scanned recursively and its tree mirrored under --output; a single file goes \
    to the --output file (or into it when it is a folder or ends in /). Each image keeps its \
    size (reflection-padded for the model and cropped back) unless --size or --scale-width is \
    given. Outputs take the input's format unless --format is given; 16-bit PNGs stay 16-bit, \
    alpha is carried through to PNG and composited over white for JPEG. Inputs are never \
    modified, outputs are written atomically, and an output on an input or in a folder that \
    cannot be written is refused before any work. A bad file is reported with its reason and \
    the run goes on; the summary lists every failure and the exit status is 1 when any file \
    failed. See docs/TRANSLATE.md.
    """
  static let options: [OptionSpec] = [
    .value("model", "DIR", help: "Model directory (config.json, G_A/G_B.safetensors)."),
    .value("input", "FILE|DIR", help: "Image file, or folder scanned recursively."),
    .value("output", "FILE|DIR", help: "Output file, or folder that mirrors the input folder."),
    .value(
      "direction", "AtoB|BtoA", default: "AtoB", help: "Use G_A (A to B) or G_B (B to A)."),
    .value("to", "NAME", help: "Translate to the domain of this name (from config.json)."),
    .value("format", "png|jpg", help: "Write every output in this format (default: the input's)."),
    .value("quality", "N", default: "95", help: "JPEG quality, 1 to 100."),
    .value("size", "N", help: "Resize every image to N×N before translating."),
    .value("scale-width", "N", help: "Resize every image to N wide, keeping its aspect ratio."),
    .flag("keep-grey", help: "Write grey inputs as grey even when the model makes colour."),
    .flag("skip-existing", help: "Leave inputs whose output exists (resume a bulk run)."),
    .flag("compare", help: "Also write input and output side by side (NAME_compare.EXT)."),
    .value(
      "memory-limit", "GiB",
      help: "Refuse images whose translation needs more memory (default: 3/4 of the RAM)."),
    .value(
      "max-pixels", "N", default: "100000000", help: "Refuse images with more pixels than this."),
    .flag("quiet", help: "Print only the summary and its list of failures."),
    .flag("verbose", help: "Print a line for every file."),
  ]

  static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
    guard arguments.positionals.isEmpty else {
      throw UsageError(
        "'translate' takes no positional arguments, got '\(arguments.positionals[0])'",
        hint: "write: transmute translate --model DIR --input PATH --output PATH")
    }
    let modelPath = try arguments.required("model", placeholder: "DIR")
    // Names that are not UTF-8 are taken as typed (see `InfoCommand.rawPath`).
    let input = InfoCommand.rawPath(try arguments.required("input", placeholder: "FILE|DIR"))
    let output = InfoCommand.rawPath(try arguments.required("output", placeholder: "FILE|DIR"))
    let options = try translationOptions(arguments)
    let quiet = arguments.flag("quiet")
    let verbose = arguments.flag("verbose")
    if quiet && verbose {
      throw UsageError("--quiet and --verbose cannot be used together; choose one")
    }
    let direction = try arguments.choice("direction", ["AtoB", "BtoA"]).flatMap {
      TranslationDirection(rawValue: $0)
    }
    let explicitDirection = arguments.values["direction"] == nil ? nil : direction

    // Everything is checked before any work: the model, then the plan.
    guard FileManager.default.fileExists(atPath: modelPath) else {
      throw UsageError(
        "the model \(modelPath) does not exist",
        hint: "give --model a model directory (config.json with G_A/G_B) or a .pth generator")
    }
    let model: TranslationModel
    do {
      model = try TranslationModel.load(
        from: URL(fileURLWithPath: modelPath), direction: explicitDirection,
        toDomain: arguments.string("to"))
    } catch let error as ModelChoiceError {
      throw UsageError(error.description)
    }
    let plan: TranslationPlan
    do {
      plan = try TranslationPlanner.plan(
        input: input, output: output, format: options.format,
        compare: arguments.flag("compare"))
    } catch {
      throw UsageError(error.description)
    }

    // An empty input folder is most likely the wrong folder: say so rather than succeed.
    if plan.files.isEmpty && plan.problems.isEmpty {
      console.error("transmute translate: no PNG or JPEG files found in \(input)")
      if !plan.unsupported.isEmpty { console.error("note: \(leftOut(plan.unsupported))") }
      return 1
    }

    let total = plan.files.count + plan.problems.count
    let (from, to) = model.domains
    if !quiet {
      console.error(
        "translate: \(plan.files.count) image(s) from \(input) to \(output) with \(modelPath) "
          + "(\(model.direction.generator.rawValue): \(from) → \(to))")
      if !plan.problems.isEmpty {
        console.error(
          "note: \(plan.problems.count) more entr\(plan.problems.count == 1 ? "y" : "ies") "
            + "cannot be read; the summary lists them")
      }
      for note in plan.notes { console.error("note: \(note)") }
      if !plan.unsupported.isEmpty { console.error("note: \(leftOut(plan.unsupported))") }
    }
    let progress = ProgressReporter(
      console: console, label: "translate", total: total, unit: "img",
      quiet: quiet || verbose)
    let bulk = BulkTranslation(
      translation: ImageTranslation(translator: model.translator, options: options))
    // Ctrl-C (or SIGTERM) lets the images already translated be written, then stops: no
    // partial or temporary file is left, and --skip-existing goes on from there.
    let stop = StopRequest()
    stop.installSignalHandlers { name in
      console.error(
        "\(name): writing the images already translated, then stopping "
          + "(\(name) again quits at once)")
    }
    defer { stop.uninstall() }
    let report: @Sendable (TranslationEvent) -> Void = { event in
      switch event.outcome {
      case .translated(let seconds):
        if verbose {
          console.error(
            "ok \(event.input) -> \(event.output.map(\.description) ?? "")"
              + String(format: " (%.2fs)", seconds))
        }
      case .skipped:
        if verbose { console.error("skip \(event.input): its output exists") }
      case .failed(let reason):
        if !quiet { console.error("failed \(event.input): \(reason)") }
      }
      // Skips and failures count, but not in the rate: most take no time (unreadable entries),
      // and counting them made the first lines claim thousands of images a second.
      let translated = if case .translated = event.outcome { true } else { false }
      progress.advance(withoutWork: !translated)
    }
    let summary = bulk.run(
      plan, with: model.translator, onEvent: report, shouldStop: { stop.isRequested })
    progress.finish()

    console.out(summary.countsLine)
    for failure in summary.failures {
      console.out("failed: \(failure.input): \(failure.reason)")
    }
    if stop.isRequested {
      console.error(
        "stopped: run the same command with --skip-existing to translate the rest")
      return 130
    }
    return summary.exitStatus
  }

  /// The run's options from the command line, checked.
  static func translationOptions(_ arguments: ParsedArguments) throws -> TranslationOptions {
    let format = try arguments.choice("format", ["png", "jpg", "jpeg"]).map {
      $0 == "png" ? ImageFormat.png : .jpeg
    }
    let quality = try arguments.int("quality", in: 1...100) ?? 95
    let size = try arguments.int("size", in: 1...65_536)
    let scaleWidth = try arguments.int("scale-width", in: 1...65_536)
    if size != nil && scaleWidth != nil {
      throw UsageError("--size and --scale-width cannot be used together; choose one")
    }
    let resizing: Resizing =
      size.map { .square(side: $0) } ?? scaleWidth.map { .scaleWidth(width: $0) } ?? .original
    let physical = Double(ProcessInfo.processInfo.physicalMemory)
    let limit =
      try arguments.double("memory-limit", in: 0.001...1_000_000) ?? physical * 0.75
      / Double(1 << 30)
    let maxPixels = try arguments.int("max-pixels", in: 1...Int.max) ?? 100_000_000
    return TranslationOptions(
      format: format, jpegQuality: quality, resizing: resizing,
      keepGrey: arguments.flag("keep-grey"), skipExisting: arguments.flag("skip-existing"),
      decodeLimits: DecodeLimits(maxPixels: maxPixels),
      memoryLimitBytes: Int(limit * Double(1 << 30)))
  }
}
