/// `transmute info FILE|DIR...`: what each image file is, or why it cannot be used.
import Foundation
import ImageIO

/// Prints one line per image file found under the arguments (folders recursively): format,
/// size, channels, bit depth, orientation; or the error. Exits with status 1 when any file or
/// entry failed, or when there was none.
enum InfoCommand: Command {
  static let name = "info"
  static let summary = "Describe image files (format, size, channels, bit depth) or their errors."
  static let synopsis = "info FILE|DIR... [--header-only] [--max-pixels N]"
  static let discussion = """
    Folders are scanned recursively (hidden files skipped, symbolic links followed with loop \
    detection). Each file is decoded completely, so damaged data is reported; with \
    --header-only only the header is read. The format comes from the file's signature, never \
    its name. The exit status is 1 when any file failed or no image file was found, 0 \
    otherwise.
    """
  static let options: [OptionSpec] = [
    .flag("header-only", help: "Read only each file's header (faster; damage may go unseen)."),
    .value(
      "max-pixels", "N", default: "100000000", help: "Refuse images with more pixels than this."),
  ]

  static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
    guard !arguments.positionals.isEmpty else {
      throw UsageError(
        "'info' needs at least one file or folder", hint: "write: transmute info PATH")
    }
    let maxPixels = try arguments.int("max-pixels", in: 1...Int.max) ?? 100_000_000
    let limits = DecodeLimits(maxPixels: maxPixels)
    let headerOnly = arguments.flag("header-only")

    let scan = scanImageFiles(in: arguments.positionals.map(rawPath))
    var failures = scan.problems.count
    for problem in scan.problems {
      console.out("\(problem.path): error: \(problem.reason)")
    }
    for path in scan.images {
      do throws(ImageIOError) {
        let info = try ImageInfo(contentsOf: path)
        if headerOnly {
          // The header alone already tells whether the pixel limit refuses the image.
          let (pixels, overflow) = info.width.multipliedReportingOverflow(by: info.height)
          if overflow || pixels > maxPixels {
            throw ImageIOError.tooLarge(
              path: path, width: info.width, height: info.height, maxPixels: maxPixels)
          }
        } else {
          _ = try Image(contentsOf: path, limits: limits)
        }
        console.out("\(path): \(describe(info))")
      } catch {
        failures += 1
        console.out("\(path): error: \(error.reason)")
      }
    }

    let total = scan.images.count + scan.problems.count
    if !scan.unsupported.isEmpty { console.error("note: \(leftOut(scan.unsupported))") }
    guard total > 0 else {
      let named = arguments.positionals.joined(separator: ", ")
      console.error("transmute info: no PNG or JPEG files found in \(named)")
      return 1
    }
    console.error(
      "\(total) \(total == 1 ? "entry" : "entries"), \(failures) failed"
        + (headerOnly ? " (headers only)" : ""))
    return failures == 0 ? 0 : 1
  }

  /// The path the user typed. Swift replaces bytes that are not UTF-8 in `CommandLine.arguments`
  /// with U+FFFD; such an argument is looked up among the raw `argv` bytes so that a file whose
  /// name is not UTF-8 can still be named on the command line.
  static func rawPath(_ argument: String) -> FilePath {
    guard argument.unicodeScalars.contains("\u{FFFD}") else { return FilePath(argument) }
    for index in 0..<Int(CommandLine.argc) {
      guard let pointer = CommandLine.unsafeArgv[index] else { continue }
      let bytes = UnsafeBufferPointer(start: pointer, count: strlen(pointer)).map {
        UInt8(bitPattern: $0)
      }
      if String(decoding: bytes, as: UTF8.self) == argument { return FilePath(bytes: bytes) }
    }
    return FilePath(argument)
  }

  /// One line for an image: `JPEG 640×427 RGB (YCbCr) 8-bit orientation 1, progressive`.
  static func describe(_ info: ImageInfo) -> String {
    var text = "\(info.format.displayName) \(info.width)×\(info.height)"
    let channels = (info.colorChannels == 1 ? "grey" : "RGB") + (info.hasAlpha ? "+alpha" : "")
    text += " " + channels + (info.colorModel == channels ? "" : " (\(info.colorModel))")
    text += " \(info.bitDepth)-bit orientation \(info.orientation)"
    var notes: [String] = []
    if info.orientation >= 5 { notes.append("stored \(info.storedWidth)×\(info.storedHeight)") }
    if info.interlaced { notes.append(info.format == .png ? "interlaced" : "progressive") }
    if info.arithmeticCoded { notes.append("arithmetic-coded") }
    return notes.isEmpty ? text : text + ", " + notes.joined(separator: ", ")
  }
}

/// The note about files a scan left out as images in other formats (`ImageScan.unsupported`):
/// how many, the first few, and what to do.
func leftOut(_ files: [FilePath]) -> String {
  let shown = files.prefix(3).map(\.description).joined(separator: ", ")
  let one = files.count == 1
  return
    "\(files.count) \(one ? "file is an image in a format" : "files are images in formats") "
    + "Transmute does not read, left out: \(shown)\(files.count > 3 ? ", …" : "") (convert "
    + "\(one ? "it" : "them") to PNG or JPEG)"
}
