/// Planning a run before any work: which input goes to which output file, in which format, and
/// the safety checks that keep inputs untouched (no output on an input, no two inputs on one
/// output, no outputs where a later scan of the input tree would pick them up again).
import CImageCodecs
import Foundation
import ImageIO

extension ImageFormat {
  /// The extension given to an output of this format whose name had to change (`png`, `jpg`).
  public var outputExtension: String { self == .png ? "png" : "jpg" }

  /// The format a file extension names, case-insensitively (`PNG`; `jpg`, `jpeg`, `jpe`,
  /// `jfif`): the extensions the folder scan takes as images.
  public static func named(byExtension fileExtension: String) -> ImageFormat? {
    switch fileExtension.lowercased() {
    case "png": return .png
    case "jpg", "jpeg", "jpe", "jfif": return .jpeg
    default: return nil
    }
  }

  /// The format of the file at `path` from its first bytes, or nil when it is neither PNG nor
  /// JPEG or cannot be read (decoding says why later).
  public static func sniffed(at path: FilePath) -> ImageFormat? {
    let descriptor = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var head = [UInt8](repeating: 0, count: 8)
    let count = head.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, 8) }
    guard count > 0 else { return nil }
    switch tm_detect_format(head, count) {
    case Int32(TM_FORMAT_PNG): return .png
    case Int32(TM_FORMAT_JPEG): return .jpeg
    default: return nil
    }
  }
}

/// One input file of a run and where its result goes.
public struct PlannedFile: Sendable, Equatable {
  /// The input file, as scanned or given.
  public let input: FilePath
  /// The input's path relative to the input folder (its name for a single file): outputs
  /// mirror it, and reports name files by it.
  public let relativePath: FilePath
  /// The file to write.
  public let output: FilePath
  /// The format to write.
  public let format: ImageFormat
  /// Where `--compare` writes input and output side by side, if asked for.
  public let comparison: FilePath?
  /// Whether the output's name was changed to keep it apart from another output.
  public let isRenamed: Bool
}

/// Every input of a run with its output, checked before any work starts.
public struct TranslationPlan: Sendable {
  /// The files to translate, in scan order.
  public var files: [PlannedFile]
  /// What the user should know about the plan: renamed outputs, inputs left out.
  public var notes: [String]
  /// Entries the scan found unusable (dangling links, special files named like images,
  /// folders that cannot be listed): each counts as a failed file of the run.
  public var problems: [ScanProblem] = []
  /// Files left out as images in formats Transmute does not read (`.webp`, `.heic`, …), to be
  /// mentioned: `ImageScan.unsupported`.
  public var unsupported: [FilePath] = []
}

/// What a plan cannot allow, found before any file is read or written.
public enum PlanError: Error, Equatable, CustomStringConvertible {
  /// An output file would replace an input file.
  case outputIsInput(input: FilePath, output: FilePath)
  /// The output folder is the input folder itself.
  case outputFolderIsInputFolder(FilePath)
  /// A folder was given as input and an existing file as output.
  case outputIsFileForFolderInput(input: FilePath, output: FilePath)
  /// The output file name's extension contradicts `--format`.
  case extensionContradictsFormat(output: FilePath, format: ImageFormat)
  /// The output file name ends in an extension that names neither PNG nor JPEG (`x.gif`).
  case unsupportedOutputExtension(FilePath)
  /// An output would be written where a folder is.
  case outputIsFolder(FilePath)
  /// The input does not exist or cannot be used.
  case unusableInput(FilePath, reason: String)
  /// The output folder (or the folder of the output file) cannot receive files.
  case unwritableOutput(FilePath, reason: String)

  public var description: String {
    switch self {
    case .outputIsInput(let input, let output):
      return "the output \(output) would overwrite the input \(input); choose another --output"
    case .outputFolderIsInputFolder(let folder):
      return
        "the output folder \(folder) is the input folder, so outputs would mix with inputs; "
        + "choose another --output, for example a sibling folder"
    case .outputIsFileForFolderInput(let input, let output):
      return "the input \(input) is a folder, so --output must be a folder, but \(output) is a file"
    case .extensionContradictsFormat(let output, let format):
      return
        "the output \(output) does not end in .\(format.outputExtension) as --format "
        + "\(format.outputExtension) asks; rename it or drop --format"
    case .unsupportedOutputExtension(let output):
      return
        "the output \(output) ends in .\(output.pathExtension), but Transmute writes only PNG "
        + "and JPEG; name it .png or .jpg"
    case .outputIsFolder(let output):
      return "the output \(output) is an existing folder, not a file"
    case .unusableInput(let input, let reason):
      return "the input \(input) cannot be used: \(reason)"
    case .unwritableOutput(let folder, let reason):
      return "the outputs cannot be written to \(folder): \(reason); choose another --output"
    }
  }
}

/// One file found by the scan.
public struct InputFile: Sendable, Equatable {
  /// The file as it can be opened.
  public var path: FilePath
  /// Its path relative to the input root (its name when a single file was given).
  public var relativePath: FilePath

  public init(path: FilePath, relativePath: FilePath) {
    self.path = path
    self.relativePath = relativePath
  }
}

/// Turns scanned inputs into a `TranslationPlan`.
public enum TranslationPlanner {
  /// Where the outputs go.
  public enum Destination: Sendable, Equatable {
    /// Mirror the inputs' relative paths under this folder.
    case folder(FilePath)
    /// Write the only input's result to this file.
    case file(FilePath)
  }

  /// Plans the translation of `input` (a file or a folder scanned recursively) into `output`:
  /// a folder for a folder input; for a file input a file, or a folder when it exists as one
  /// or is written with a trailing `/`.
  public static func plan(
    input: FilePath, output: FilePath, format: ImageFormat?, compare: Bool = false
  ) throws(PlanError) -> TranslationPlan {
    let inputKind = input.fileKind
    guard let inputKind, inputKind != .danglingLink else {
      // The scan words why (a dangling link, a link loop, nothing there).
      let reason = scanImageFiles(in: input).problems.first?.reason ?? "no such file or folder"
      throw .unusableInput(input, reason: reason)
    }
    let scan = scanImageFiles(in: input)

    if inputKind == .folder {
      if output.fileKind == .file {
        throw .outputIsFileForFolderInput(input: input, output: output)
      }
      let prefix = input.bytes.last == UInt8(ascii: "/") ? input.bytes : input.bytes + [47]
      let files = scan.images.map { path in
        InputFile(
          path: path,
          relativePath: path.bytes.starts(with: prefix)
            ? FilePath(bytes: path.bytes.dropFirst(prefix.count)) : path.lastComponent)
      }
      var plan = try plan(
        inputs: files, inputRoot: input, destination: .folder(output), format: format,
        compare: compare)
      plan.problems = scan.problems
      plan.unsupported = scan.unsupported
      if !plan.files.isEmpty { try checkWritable(output) }
      return plan
    }

    if let problem = scan.problems.first { throw .unusableInput(input, reason: problem.reason) }
    let file = InputFile(path: input, relativePath: input.lastComponent)
    let toFolder = output.fileKind == .folder || output.bytes.last == UInt8(ascii: "/")
    let plan = try plan(
      inputs: [file], inputRoot: input, destination: toFolder ? .folder(output) : .file(output),
      format: format, compare: compare)
    try checkWritable(toFolder ? output : output.parent)
    return plan
  }

  /// Plans a run.
  ///
  /// Outputs keep the input's name when its extension fits the output format and get the
  /// format's extension otherwise (`a/b.jpg` → `a/b.png` with `--format png`). When two inputs
  /// would meet on one output (`photo.png` and `photo.jpg` with `--format png`), the one whose
  /// name needs no change keeps it and the other is written as `photo.jpg.png`. Outputs on an
  /// input, and an output folder equal to the input folder, are refused; files inside an output
  /// folder that lies inside the input folder are left out of the inputs.
  ///
  /// - Parameters:
  ///   - inputs: every input file, in scan order.
  ///   - inputRoot: the input folder (or the single input file).
  ///   - destination: the output folder or file.
  ///   - format: the format to write; nil writes each file in its input's format.
  ///   - inputFormat: the format an input is in (from its signature), nil when unknown; then
  ///     its extension decides.
  ///   - compare: also plan a side-by-side comparison file per input (`b_compare.png`).
  public static func plan(
    inputs: [InputFile], inputRoot: FilePath, destination: Destination,
    format: ImageFormat?, inputFormat: (FilePath) -> ImageFormat? = ImageFormat.sniffed(at:),
    compare: Bool = false
  ) throws(PlanError) -> TranslationPlan {
    var notes: [String] = []
    let rootCanonical = inputRoot.canonical()

    // 1. Keep the output folder out of the inputs: it may not be the input folder, and when it
    //    lies inside it, or a symbolic link in the input tree leads into it, its files (earlier
    //    results) are not inputs.
    var inputs = inputs
    if case .folder(let folder) = destination {
      let folderCanonical = folder.canonical()
      if folderCanonical == rootCanonical { throw .outputFolderIsInputFolder(folder) }
      let isInside = folderCanonical.isInside(rootCanonical)
      let before = inputs.count
      // An input folder inside the output folder (`--input out/photos --output out`) is all
      // inputs, not earlier results.
      if !rootCanonical.isInside(folderCanonical) {
        inputs.removeAll {
          $0.path.canonical(resolvingLast: false).isInside(folderCanonical)
            || $0.path.canonical().isInside(folderCanonical)
        }
      }
      if isInside || inputs.count < before {
        notes.append(
          "the output folder \(folder) is inside the input folder"
            + (isInside ? "" : " (through a symbolic link)")
            + ": the \(before - inputs.count) image(s) already in it are not inputs")
      }
    }
    if case .file(let file) = destination, file.fileKind == .folder {
      throw .outputIsFolder(file)
    }

    // 2. Each input's first-choice output and format.
    var outputs: [FilePath] = []
    var formats: [ImageFormat] = []
    for input in inputs {
      let detected =
        inputFormat(input.path) ?? ImageFormat.named(byExtension: input.path.pathExtension) ?? .png
      switch destination {
      case .folder(let folder):
        let chosen = format ?? detected
        outputs.append(folder.appending(renamed(input.relativePath, to: chosen)))
        formats.append(chosen)
      case .file(let file):
        let named = ImageFormat.named(byExtension: file.pathExtension)
        if named == nil && !file.pathExtension.isEmpty {
          throw .unsupportedOutputExtension(file)
        }
        if let format, named != format {
          throw .extensionContradictsFormat(output: file, format: format)
        }
        outputs.append(file)
        formats.append(format ?? named ?? detected)
      }
    }

    // 3. No output on an input, whichever spelling either has (links in folders resolved, and
    //    the file itself resolved or not).
    var inputByCanonical: [FilePath: FilePath] = [:]
    for input in inputs {
      inputByCanonical[input.path.canonical(resolvingLast: false)] = input.path
      inputByCanonical[input.path.canonical()] = input.path
    }
    let canonicalOutputs = outputs.map { $0.canonical() }
    for (index, output) in outputs.enumerated() {
      let spellings = [canonicalOutputs[index], output.canonical(resolvingLast: false)]
      if let input = spellings.lazy.compactMap({ inputByCanonical[$0] }).first {
        throw .outputIsInput(input: input, output: output)
      }
    }

    // 4. Distinct outputs: in a group meeting on one file, the input whose name is unchanged
    //    keeps it (else the first), and the others are renamed after their own full name.
    var taken = Set(inputByCanonical.keys)
    var isRenamed = [Bool](repeating: false, count: outputs.count)
    let groups = Dictionary(grouping: outputs.indices) { canonicalOutputs[$0] }
    var keepers = Set<Int>()
    for (canonical, members) in groups {
      let keeper =
        members.first { inputs[$0].path.lastComponent == outputs[$0].lastComponent } ?? members[0]
      keepers.insert(keeper)
      taken.insert(canonical)
    }
    for index in outputs.indices where !keepers.contains(index) {
      let original = outputs[index]
      let base = original.parent.appending(inputs[index].path.lastComponent)
      outputs[index] = freeName(
        base: base, suffix: "." + formats[index].outputExtension, taken: &taken)
      isRenamed[index] = true
      notes.append(
        "\(inputs[index].relativePath) is written to \(outputs[index]) because another input "
          + "also maps to \(original)")
    }

    // 5. Comparison files beside the outputs, kept apart from everything else.
    var comparisons = [FilePath?](repeating: nil, count: outputs.count)
    if compare {
      for index in outputs.indices {
        let stem = outputs[index].stemAndExtension.stem
        let base = outputs[index].parent.appending(stem).adding("_compare")
        comparisons[index] = freeName(
          base: base, suffix: "." + formats[index].outputExtension, taken: &taken)
      }
    }

    // 6. No output where a folder is.
    for output in outputs + comparisons.compactMap({ $0 }) where output.fileKind == .folder {
      throw .outputIsFolder(output)
    }

    let files = inputs.indices.map { index in
      PlannedFile(
        input: inputs[index].path, relativePath: inputs[index].relativePath,
        output: outputs[index], format: formats[index], comparison: comparisons[index],
        isRenamed: isRenamed[index])
    }
    return TranslationPlan(files: files, notes: notes)
  }

  /// Refuses, before any image is translated, an output folder that cannot receive files: the
  /// nearest part of `folder` that exists must be a folder in which a file can be created (a
  /// probe file is made there and removed at once). Subfolders that exist but refuse writing
  /// are still reported file by file.
  static func checkWritable(_ folder: FilePath) throws(PlanError) {
    var existing = folder.absoluteNormalized
    while existing.fileKind == nil && existing.bytes.count > 1 { existing = existing.parent }
    guard existing.fileKind == .folder else {
      throw .unwritableOutput(folder, reason: "\(existing) is not a folder")
    }
    var template = Array(
      existing.appending(".transmute-probe-XXXXXX").bytes.map { CChar(bitPattern: $0) })
    template.append(0)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard descriptor >= 0 else {
      let reason = String(cString: strerror(errno))
      throw .unwritableOutput(folder, reason: "cannot create a file in \(existing): \(reason)")
    }
    close(descriptor)
    unlink(template)
  }

  /// `relativePath` with the extension that fits `format`: kept when it already names the
  /// format (`a/Photo.JPEG` stays for JPEG), replaced when it names the other image format,
  /// appended otherwise.
  static func renamed(_ relativePath: FilePath, to format: ImageFormat) -> FilePath {
    let (stem, fileExtension) = relativePath.stemAndExtension
    let named = ImageFormat.named(byExtension: fileExtension)
    if named == format { return relativePath }
    let name = (named == nil ? relativePath.lastComponent : stem).adding(
      "." + format.outputExtension)
    return relativePath.folderPart.map { $0.appending(name) } ?? name
  }

  /// `base + suffix`, or `base-2 + suffix`, `base-3 + suffix`, …: the first whose canonical
  /// form is not yet taken, which it then takes. Existing files do not count as taken, so that
  /// a rerun (`--skip-existing`) finds the same names.
  static func freeName(base: FilePath, suffix: String, taken: inout Set<FilePath>) -> FilePath {
    var attempt = 1
    while true {
      let candidate = base.adding((attempt == 1 ? "" : "-\(attempt)") + suffix)
      let canonical = candidate.canonical()
      if !taken.contains(canonical) {
        taken.insert(canonical)
        return candidate
      }
      attempt += 1
    }
  }
}
