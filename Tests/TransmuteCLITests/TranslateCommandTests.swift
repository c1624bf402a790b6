/// `transmute translate`: the summary it prints, its exit status, and the calls it refuses
/// before any work. The models and the tree are TranslationTests' fixtures
/// (scripts/make_translation_fixtures.py).
import Foundation
import Testing

@testable import TransmuteCLI

@Suite struct TranslateCommandTests {
  let fixtures = packageRoot.appendingPathComponent("Tests/TranslationTests/Fixtures")
  var model: String { fixtures.appendingPathComponent("models/tiny_rgb").path }

  /// A copy of the fixture tree with a dangling link added, in a fresh folder.
  func inputTree() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "TranslateCommandTests-\(UUID().uuidString)")
    let input = folder.appendingPathComponent("input")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try FileManager.default.copyItem(at: fixtures.appendingPathComponent("tree"), to: input)
    try FileManager.default.createSymbolicLink(
      atPath: input.appendingPathComponent("gone.jpg").path, withDestinationPath: "nowhere.jpg")
    return input
  }

  @Test func translatesATreeListsItsFailuresAndExitsWithOne() throws {
    let input = try inputTree()
    let output = input.deletingLastPathComponent().appendingPathComponent("output")
    let captured = CapturedConsole()
    let status = Transmute.main(
      ["translate", "--model", model, "--input", input.path, "--output", output.path],
      console: captured.console)
    #expect(status == 1)
    // The summary, then each failure with its reason (ImageIO words the reasons; their
    // beginnings are checked here).
    let lines = captured.out.split(separator: "\n", omittingEmptySubsequences: false).map(
      String.init)
    let expected = [
      "translated 8, skipped 0, failed 4",
      "failed: \(input.path)/gone.jpg: dangling symbolic link",
      "failed: \(input.path)/mixed/empty.jpg: the file is empty",
      "failed: \(input.path)/nested/truncated.png: damaged PNG: ",
      "failed: \(input.path)/not_an_image.png: not a PNG or JPEG file",
      "",
    ]
    #expect(lines.count == expected.count, "\(captured.out)")
    for (line, start) in zip(lines, expected) {
      #expect(line.hasPrefix(start), "\(line) does not start with \(start)")
    }
    #expect(captured.error.hasPrefix("translate: 11 image(s) from \(input.path) to \(output.path)"))
    #expect(captured.error.contains("(G_A: photo → painting)"))
    #expect(captured.error.contains("note: 1 more entry cannot be read; the summary lists them"))
    for name in ["odd.png", "nested/rotated.jpg", "mixed/really_png.png", "mixed/deep16.png"] {
      #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent(name).path))
    }

    // Run again: everything that was written is skipped.
    let again = CapturedConsole()
    let resumed = Transmute.main(
      [
        "translate", "--model", model, "--input", input.path, "--output", output.path,
        "--skip-existing", "--quiet",
      ], console: again.console)
    #expect(resumed == 1)
    #expect(again.out.hasPrefix("translated 0, skipped 8, failed 4\n"))
    #expect(again.error.isEmpty)
  }

  @Test func refusesBadCallsBeforeAnyWork() throws {
    let input = try inputTree()
    func run(_ extra: [String]) -> (status: Int32, error: String) {
      let captured = CapturedConsole()
      let status = Transmute.main(
        ["translate", "--model", model, "--input", input.path] + extra, console: captured.console)
      return (status, captured.error)
    }
    let other = input.deletingLastPathComponent().appendingPathComponent("out").path

    let same = run(["--output", input.path])
    #expect(same.status == 2)
    #expect(same.error.contains("is the input folder"))

    let bothSizes = run(["--output", other, "--size", "64", "--scale-width", "64"])
    #expect(bothSizes.status == 2)
    #expect(bothSizes.error.contains("--size and --scale-width cannot be used together"))

    let quietAndVerbose = run(["--output", other, "--quiet", "--verbose"])
    #expect(quietAndVerbose.status == 2)
    #expect(quietAndVerbose.error.contains("--quiet and --verbose cannot be used together"))

    let unknownDomain = run(["--output", other, "--to", "zebra"])
    #expect(unknownDomain.status == 2)
    #expect(
      unknownDomain.error.contains(
        "the model's domains are 'photo' (A) and 'painting' (B), not 'zebra'"))

    let captured = CapturedConsole()
    let missingModel = Transmute.main(
      ["translate", "--model", "/nonexistent/model", "--input", input.path, "--output", other],
      console: captured.console)
    #expect(missingModel == 2)
    #expect(captured.error.contains("the model /nonexistent/model does not exist"))

    let missingOutput = run([])
    #expect(missingOutput.status == 2)
    #expect(missingOutput.error.contains("missing option '--output'"))

    // Nothing was written anywhere.
    #expect(!FileManager.default.fileExists(atPath: other))
  }

  @Test func anEmptyInputFolderIsAnError() throws {
    let empty = FileManager.default.temporaryDirectory
      .appendingPathComponent("transmute-empty-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: empty) }
    let captured = CapturedConsole()

    let status = Transmute.main(
      [
        "translate", "--model", model, "--input", empty.path, "--output",
        empty.path + "-out",
      ], console: captured.console)

    #expect(status == 1)
    #expect(captured.error.contains("no PNG or JPEG files found in \(empty.path)"))
  }

  @Test func imagesInOtherFormatsAreNamedNotSilentlyLeftOut() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("transmute-webp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for name in ["a.webp", "b.HEIC", "c.gif", "d.tiff"] {
      try Data("other".utf8).write(to: folder.appendingPathComponent(name))
    }
    func run(_ input: URL) -> (status: Int32, error: String) {
      let captured = CapturedConsole()
      let status = Transmute.main(
        [
          "translate", "--model", model, "--input", input.path, "--output",
          input.path + "-out",
        ], console: captured.console)
      return (status, captured.error)
    }

    // Only other formats: the run fails and says what it found.
    let only = run(folder)
    #expect(only.status == 1)
    #expect(
      only.error.contains(
        "note: 4 files are images in formats Transmute does not read, left out: "
          + "\(folder.path)/a.webp, \(folder.path)/b.HEIC, \(folder.path)/c.gif, … (convert them "
          + "to PNG or JPEG)"), "\(only.error)")

    // Beside images it reads, the note comes before the work.
    let input = try inputTree()
    try Data("other".utf8).write(to: input.appendingPathComponent("e.webp"))
    let mixed = run(input)
    #expect(mixed.status == 1)  // the fixture tree holds damaged files
    #expect(
      mixed.error.contains(
        "note: 1 file is an image in a format Transmute does not read, left out: "
          + "\(input.path)/e.webp (convert it to PNG or JPEG)"), "\(mixed.error)")
  }

  @Test func failuresDoNotCountInTheRate() throws {
    let input = FileManager.default.temporaryDirectory
      .appendingPathComponent("transmute-failures-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: input) }
    for name in ["a.png", "b.png", "c.jpg"] {
      #expect(
        FileManager.default.createFile(
          atPath: input.appendingPathComponent(name).path, contents: Data()))
    }
    let captured = CapturedConsole()

    let status = Transmute.main(
      ["translate", "--model", model, "--input", input.path, "--output", input.path + "-out"],
      console: captured.console)

    // Nothing was translated, so no progress line may claim a rate.
    #expect(status == 1)
    #expect(captured.out.hasPrefix("translated 0, skipped 0, failed 3\n"))
    let lines = captured.error.split(separator: "\n").filter { $0.hasPrefix("translate 3/3") }
    #expect(lines.count == 1, "\(captured.error)")
    #expect(lines.allSatisfy { !$0.contains("img/s") }, "\(captured.error)")
  }

  @Test func aFileWhoseNameIsNotUTF8CanBeNamedOnTheCommandLine() throws {
    // Only the real argv holds the raw bytes, so the built executable is run; it sits beside
    // the test bundle.
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let executable = bundle.appendingPathComponent("transmute").path
    try #require(FileManager.default.isExecutableFile(atPath: executable), "no \(executable)")
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("transmute-bytes-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }

    // A copy of a fixture photo named `bad<0xFF>name.png` (not UTF-8).
    let photo = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("tree/odd.png")))
    let input = Array(folder.path.utf8) + Array("/bad".utf8) + [0xFF] + Array("name.png".utf8)
    let descriptor = cString(input).withUnsafeBufferPointer { creat($0.baseAddress!, 0o644) }
    try #require(descriptor >= 0)
    #expect(
      photo.withUnsafeBytes { write(descriptor, $0.baseAddress!, photo.count) } == photo.count)
    close(descriptor)

    let output = folder.path + "/out.png"
    let arguments = [
      executable, "translate", "--model", model, "--input", "", "--output", output, "--quiet",
    ].map { Array($0.utf8) }
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.indices.map { index in
      cString(index == 5 ? input : arguments[index]).withUnsafeBufferPointer {
        strdup($0.baseAddress!)
      }
    }
    argv.append(nil)
    defer { argv.forEach { free($0) } }
    var child: pid_t = 0
    #expect(posix_spawn(&child, executable, nil, nil, argv, environ) == 0)
    var status: Int32 = 0
    waitpid(child, &status, 0)
    #expect(status == 0, "wait status \(status)")
    #expect(FileManager.default.fileExists(atPath: output))
  }
}

/// `bytes` with a terminating NUL, as C strings are.
private func cString(_ bytes: [UInt8]) -> [CChar] {
  bytes.map { CChar(bitPattern: $0) } + [0]
}
