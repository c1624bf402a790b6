/// `transmute info`: the lines it prints for good and bad files, and its exit status.
import Foundation
import Testing

@testable import TransmuteCLI

/// The package root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

@Suite struct InfoCommandTests {
  let samples = packageRoot.appendingPathComponent("datasets/samples").path
  let hostile = packageRoot.appendingPathComponent("Tests/ImageIOTests/Fixtures/hostile").path

  @Test func describesTheBundledSamples() {
    let captured = CapturedConsole()
    let status = Transmute.main(["info", samples], console: captured.console)
    #expect(status == 0)
    #expect(
      captured.out == """
        \(samples)/astronaut.png: PNG 512×512 RGB 8-bit orientation 1
        \(samples)/chelsea.png: PNG 451×300 RGB 8-bit orientation 1
        \(samples)/coffee.png: PNG 600×400 RGB 8-bit orientation 1
        \(samples)/rocket.jpg: JPEG 640×427 RGB (YCbCr) 8-bit orientation 1

        """)
    #expect(captured.error == "4 entries, 0 failed\n")
  }

  @Test func reportsFailuresAndExitsWithOne() {
    let captured = CapturedConsole()
    let status = Transmute.main(
      [
        "info", "\(hostile)/truncated.jpg", "\(hostile)/orientation_6.jpg",
        "\(hostile)/missing.png",
      ],
      console: captured.console)
    #expect(status == 1)
    #expect(
      captured.out == """
        \(hostile)/missing.png: error: no such file or folder
        \(hostile)/orientation_6.jpg: JPEG 16×24 RGB (YCbCr) 8-bit orientation 6, stored 24×16
        \(hostile)/truncated.jpg: error: damaged JPEG: Premature end of JPEG file

        """)
    #expect(captured.error == "3 entries, 2 failed\n")
  }

  @Test func emptyFolderIsAFailure() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("transmute-info-empty-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try Data("hidden".utf8).write(to: folder.appendingPathComponent(".hidden.png"))

    let captured = CapturedConsole()
    let status = Transmute.main(["info", folder.path], console: captured.console)
    #expect(status == 1)
    #expect(captured.out.isEmpty)
    #expect(
      captured.error
        == "transmute info: no PNG or JPEG files found in \(folder.path)\n")

    // A folder of photos in another format says so.
    try Data("heic".utf8).write(to: folder.appendingPathComponent("IMG_0001.HEIC"))
    let other = CapturedConsole()
    #expect(Transmute.main(["info", folder.path], console: other.console) == 1)
    #expect(
      other.error
        == "note: 1 file is an image in a format Transmute does not read, left out: "
        + "\(folder.path)/IMG_0001.HEIC (convert it to PNG or JPEG)\n"
        + "transmute info: no PNG or JPEG files found in \(folder.path)\n")
  }

  @Test func headerOnlySkipsThePixels() {
    let captured = CapturedConsole()
    let status = Transmute.main(
      ["info", "--header-only", "\(hostile)/truncated.jpg"], console: captured.console)
    #expect(status == 0)
    #expect(captured.error == "1 entry, 0 failed (headers only)\n")
  }

  @Test func headerOnlyStillAppliesThePixelLimit() {
    let captured = CapturedConsole()
    let status = Transmute.main(
      ["info", "--header-only", "\(hostile)/huge_header.png", "\(hostile)/small_rgb.png"],
      console: captured.console)
    #expect(status == 1)
    let lines = captured.out.split(separator: "\n").map(String.init)
    #expect(lines.count == 2, "\(captured.out)")
    #expect(
      lines.first
        == "\(hostile)/huge_header.png: error: the image is 100000×100000 = 10000000000 pixels, "
        + "above the limit of 100000000 pixels, set to keep memory bounded (see docs/IMAGES.md)")
    #expect(lines.last?.hasPrefix("\(hostile)/small_rgb.png: PNG ") == true, "\(captured.out)")
    #expect(captured.error == "2 entries, 1 failed (headers only)\n")

    // A higher limit lets the header through.
    let raised = CapturedConsole()
    #expect(
      Transmute.main(
        ["info", "--header-only", "--max-pixels", "10000000000", "\(hostile)/huge_header.png"],
        console: raised.console) == 0)
  }

  @Test func needsAPath() {
    let captured = CapturedConsole()
    #expect(Transmute.main(["info"], console: captured.console) == 2)
    #expect(captured.error.hasPrefix("transmute info: 'info' needs at least one file or folder"))
  }
}
