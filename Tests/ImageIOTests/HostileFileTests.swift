/// The hostile classes of files, built by scripts/make_image_fixtures.py (and, for entries git
/// cannot hold, by the tests themselves): each must decode to its reference samples or be
/// refused with the right error, naming the file.
import Foundation
import Testing

@testable import ImageIO

struct HostileReference: Decodable, Sendable {
  var width: Int
  var height: Int
  var channels: Int
  var bitDepth: Int
  var samples: [Int]
  var tolerance: Int
}

let hostileReferences: [String: HostileReference] = {
  let url = fixturesFolder.appendingPathComponent("hostile.json")
  guard let data = try? Data(contentsOf: url),
    let references = try? JSONDecoder().decode([String: HostileReference].self, from: data)
  else { return [:] }
  return references
}()

func hostilePath(_ name: String) -> FilePath { fixturePath("hostile/\(name)") }

/// Decodes `path` and compares it with `reference`; failures print the worst sample.
func expectMatches(
  _ path: FilePath, _ reference: HostileReference, limits: DecodeLimits = .init(),
  sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let image = try Image(contentsOf: path, limits: limits)
  let channels = image.colorChannels + (image.alpha == nil ? 0 : 1)
  #expect(
    image.width == reference.width && image.height == reference.height
      && channels == reference.channels && image.bitDepth == reference.bitDepth,
    "\(path): got \(image.width)×\(image.height)×\(channels) \(image.bitDepth)-bit",
    sourceLocation: sourceLocation)
  guard image.width == reference.width, image.height == reference.height,
    channels == reference.channels
  else { return }
  let ours = integerSamples(image).map(Float.init)
  let (difference, index) = worstDifference(ours, reference.samples.map(Float.init))
  #expect(
    difference <= Float(reference.tolerance),
    "\(path): worst difference \(difference) at sample \(index) (tolerance \(reference.tolerance))",
    sourceLocation: sourceLocation)
}

/// Expects decoding `path` to throw an error that names it and satisfies `matches`.
func expectRefusal(
  _ path: FilePath, limits: DecodeLimits = .init(),
  sourceLocation: SourceLocation = #_sourceLocation, _ matches: (ImageIOError) -> Bool
) {
  do {
    let image = try Image(contentsOf: path, limits: limits)
    Issue.record(
      "\(path) decoded (\(image.width)×\(image.height)) but should be refused",
      sourceLocation: sourceLocation)
  } catch {
    #expect(error.path == path, "error names \(error.path)", sourceLocation: sourceLocation)
    #expect(error.description.hasPrefix("\(path): "), sourceLocation: sourceLocation)
    #expect(matches(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
  }
}

@Suite struct HostileFileTests {
  @Test func everyReferenceIsPresent() {
    #expect(hostileReferences.count == 34)
  }

  @Test(arguments: hostileReferences.keys.sorted())
  func decodesToItsReference(_ name: String) throws {
    let reference = try #require(hostileReferences[name])
    try expectMatches(hostilePath(name), reference)
  }

  @Test func samplesAreTheNearestFloatsToTheirLevels() throws {
    let reference = try #require(hostileReferences["small_rgb.png"])
    let image = try Image(contentsOf: hostilePath("small_rgb.png"))
    let planeSize = image.width * image.height
    for index in 0..<planeSize {
      for channel in 0..<3 {
        let level = reference.samples[index * 3 + channel]
        #expect(image.pixels[channel * planeSize + index] == Float(level) / 255)
      }
    }
    let deep = try Image(contentsOf: hostilePath("grey16.png"))
    #expect(deep.pixels == [0x0101, 0x0102, 0xFFFE, 0, 0x8000, 0xFFFF].map { Float($0) / 65535 })
  }

  @Test(arguments: ["truncated.png", "truncated_before_iend.png"])
  func truncatedPNGIsCorrupt(_ name: String) {
    expectRefusal(hostilePath(name)) { error in
      guard case .corrupt(_, .png, let reason) = error else { return false }
      return reason.contains("truncated")
    }
  }

  @Test func truncatedJPEGIsAnErrorUnlessLenient() throws {
    expectRefusal(hostilePath("truncated.jpg")) { error in
      guard case .corrupt(_, .jpeg, let reason) = error else { return false }
      return reason.contains("Premature end")
    }
    let lenient = try Image(
      contentsOf: hostilePath("truncated.jpg"), limits: DecodeLimits(strictJPEG: false))
    #expect(lenient.width == 32 && lenient.height == 24)
  }

  @Test(arguments: ["only_soi.jpg", "truncated_header.jpg"])
  func truncatedJPEGHeaderIsCorrupt(_ name: String) {
    expectRefusal(hostilePath(name), limits: DecodeLimits(strictJPEG: false)) { error in
      if case .corrupt(_, .jpeg, _) = error { return true }
      return false
    }
  }

  @Test func emptyFileIsRefused() {
    expectRefusal(hostilePath("empty.png")) { $0 == .emptyFile(path: hostilePath("empty.png")) }
  }

  @Test func badCRCIsCorrupt() {
    expectRefusal(hostilePath("bad_crc.png")) { error in
      guard case .corrupt(_, .png, let reason) = error else { return false }
      return reason.contains("CRC")
    }
  }

  @Test func badZlibStreamIsCorrupt() {
    expectRefusal(hostilePath("bad_zlib.png")) { error in
      if case .corrupt(_, .png, _) = error { return true }
      return false
    }
  }

  @Test(arguments: ["zero_width.png", "zero_height.png", "zero_height.jpg"])
  func zeroDimensionsAreCorrupt(_ name: String) {
    expectRefusal(hostilePath(name)) { error in
      if case .corrupt = error { return true }
      return false
    }
  }

  @Test(arguments: ["huge_header.png", "huge_header.jpg", "bomb.png"])
  func hugeImagesAreRefusedFromTheHeader(_ name: String) {
    expectRefusal(hostilePath(name)) { error in
      guard case .tooLarge(_, let width, let height, let maxPixels) = error else { return false }
      return width * height > maxPixels && maxPixels == 100_000_000
    }
  }

  @Test func pixelLimitAndMinimumSizeAreConfigurable() {
    let path = hostilePath("small_rgb.png")
    expectRefusal(path, limits: DecodeLimits(maxPixels: 29)) {
      $0 == .tooLarge(path: path, width: 5, height: 6, maxPixels: 29)
    }
    expectRefusal(path, limits: DecodeLimits(minWidth: 6, minHeight: 6)) {
      $0 == .tooSmall(path: path, width: 5, height: 6, minWidth: 6, minHeight: 6)
    }
  }

  @Test(arguments: [
    ("html_named.png", "an HTML page"), ("gif_named.png", "a GIF image"),
    ("bmp_named.png", "a BMP image"), ("webp_named.png", "a WebP image"),
  ])
  func otherFormatsAreNotImages(_ name: String, _ detected: String) {
    expectRefusal(hostilePath(name)) { error in
      error == .notAnImage(path: hostilePath(name), detected: detected)
        && error.reason.hasPrefix("not a PNG or JPEG file")
    }
  }

  @Test func signatureDecidesTheFormat() throws {
    #expect(try Image(contentsOf: hostilePath("png_named.jpg")).format == .png)
    #expect(try Image(contentsOf: hostilePath("jpeg_named.png")).format == .jpeg)
  }

  @Test func orientationIsReadFromTheHeader() throws {
    for orientation in 1...8 {
      let info = try ImageInfo(contentsOf: hostilePath("orientation_\(orientation).jpg"))
      #expect(info.orientation == orientation)
      #expect(info.storedWidth == 24 && info.storedHeight == 16)
      #expect(info.width == (orientation >= 5 ? 16 : 24))
    }
    #expect(try ImageInfo(contentsOf: hostilePath("orientation_6.png")).orientation == 6)
    #expect(try ImageInfo(contentsOf: hostilePath("exif_orientation_99.jpg")).orientation == 1)
  }

  @Test func corruptEntropyDataIsAnErrorUnlessLenient() throws {
    expectRefusal(hostilePath("corrupt_data.jpg")) { error in
      guard case .corrupt(_, .jpeg, let reason) = error else { return false }
      return reason.hasPrefix("Corrupt JPEG data")
    }
    let lenient = try Image(
      contentsOf: hostilePath("corrupt_data.jpg"), limits: DecodeLimits(strictJPEG: false))
    #expect(lenient.width == 32 && lenient.height == 24)
  }

  @Test func progressiveScanBombIsRefused() {
    expectRefusal(hostilePath("scan_bomb.jpg")) { error in
      guard case .corrupt(_, .jpeg, let reason) = error else { return false }
      return reason.hasPrefix("Inconsistent progression sequence")
    }
    expectRefusal(hostilePath("scan_bomb.jpg"), limits: DecodeLimits(strictJPEG: false)) {
      error in
      guard case .corrupt(_, .jpeg, let reason) = error else { return false }
      return reason == "more than 500 progressive scans (a decoding-time bomb)"
    }
  }

  @Test func losslessJPEGIsUnsupported() {
    expectRefusal(hostilePath("lossless_sof3.jpg")) { error in
      guard case .unsupported(_, .jpeg, let reason) = error else { return false }
      return reason.contains("lossless") && reason.contains("SOF type 0xc3")
    }
  }

  @Test func ycckIsReportedAsSuch() throws {
    let info = try ImageInfo(contentsOf: hostilePath("ycck_adobe.jpg"))
    #expect(info.storedChannels == 4 && info.colorChannels == 3 && info.colorModel == "YCCK")
  }

  @Test func cmykIsReportedAsAdobeInverted() throws {
    let info = try ImageInfo(contentsOf: hostilePath("cmyk_adobe.jpg"))
    #expect(info.storedChannels == 4 && info.colorChannels == 3)
    #expect(info.colorModel == "CMYK (Adobe, inverted)")
  }

  @Test(arguments: ["progressive.jpg", "restart_markers.jpg", "arithmetic.jpg", "greyscale.jpg"])
  func libjpegVariantsMatchDjpeg(_ name: String) throws {
    let path = hostilePath(name)
    let image = try Image(contentsOf: path)
    let (width, height, channels, reference) = try djpegSamples(path)
    #expect(image.width == width && image.height == height && image.colorChannels == channels)
    guard image.width == width, image.colorChannels == channels else { return }
    let (difference, index) = worstDifference(
      integerSamples(image).map(Float.init), reference.map(Float.init))
    #expect(difference <= 1, "worst difference \(difference) at sample \(index)")
    let info = try ImageInfo(contentsOf: path)
    #expect(info.interlaced == (name == "progressive.jpg"))
    #expect(info.arithmeticCoded == (name == "arithmetic.jpg"))
  }
}

/// Entries git cannot hold, made in a temporary folder: FIFOs, links, odd names, folders.
@Suite struct FileSystemEntryTests {
  @Test func fifoIsRefusedWithoutBlocking() throws {
    let folder = temporaryFolder()
    let fifo = folder.appending("pipe.png")
    #expect(fifo.withCString { mkfifo($0, 0o644) } == 0)
    expectRefusal(fifo) { $0 == .notARegularFile(path: fifo, kind: "a FIFO") }
  }

  @Test func directoryNamedLikeAnImageIsRefused() throws {
    let folder = temporaryFolder()
    let directory = folder.appending("photo.jpg")
    #expect(directory.withCString { mkdir($0, 0o755) } == 0)
    expectRefusal(directory) { $0 == .notARegularFile(path: directory, kind: "a directory") }
  }

  @Test func danglingAndLoopingLinksAreUnreadable() throws {
    let folder = temporaryFolder()
    let dangling = folder.appending("dangling.png")
    #expect(symlink("missing-target.png", dangling.description) == 0)
    expectRefusal(dangling) { error in
      guard case .unreadable(_, let reason) = error else { return false }
      return reason.contains("No such file")
    }
    let loop = folder.appending("loop.png")
    #expect(symlink("loop.png", loop.description) == 0)
    expectRefusal(loop) { error in
      guard case .unreadable(_, let reason) = error else { return false }
      return reason.contains("symbolic links")
    }
  }

  /// A 100 MB sparse file (no disk used) behind a PNG signature is refused unread when the
  /// pixel limit makes such a size impossible.
  @Test func oversizedFileIsRefusedBeforeReading() throws {
    let path = temporaryFolder().appending("huge.png")
    try writeAtomically([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], to: path)
    #expect(truncate(path.description, 100 << 20) == 0)
    let limits = DecodeLimits(maxPixels: 1000)
    #expect(limits.maxFileBytes == 8080 + 64 << 20)
    expectRefusal(path, limits: limits) {
      $0 == .fileTooLarge(path: path, bytes: 100 << 20, maxBytes: limits.maxFileBytes)
    }
  }

  @Test func missingFileIsUnreadable() {
    let path = temporaryFolder().appending("nothing-here.png")
    expectRefusal(path) { error in
      if case .unreadable = error { return true }
      return false
    }
  }

  /// Non-UTF-8 bytes and shell-special characters in names: the file decodes, and the error
  /// text of a damaged one shows the bytes escaped.
  @Test func oddFileNamesWork() throws {
    let folder = temporaryFolder()
    let source = try readImageFile(hostilePath("small_rgb.png"))
    let names: [FilePath] = [
      FilePath(bytes: Array("caf".utf8) + [0xE9, 0xFF] + Array(".png".utf8)),
      "$(rm -rf ~) ; `echo` 'quoted' \"double\" *?[].png", "-starts-with-dash.png",
      "new\nline\ttab.png", "snow ☃ ünïcode.png",
    ]
    let reference = try #require(hostileReferences["small_rgb.png"])
    for name in names {
      let path = folder.appending(name)
      try writeAtomically(source, to: path)
      try expectMatches(path, reference)
    }
    let broken = folder.appending(FilePath(bytes: [0xFF, 0xFE] + Array(".png".utf8)))
    try writeAtomically([0x89, 0x50], to: broken)
    expectRefusal(broken) { $0.description.hasPrefix("\(folder)/\\xFF\\xFE.png: ") }
  }
}
