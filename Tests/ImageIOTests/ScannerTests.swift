/// The folder scanner over a tree with every awkward kind of entry, built in a temporary folder.
import Foundation
import Testing

@testable import ImageIO

@Suite struct ScannerTests {
  /// Builds the tree and returns its root.
  func makeTree() throws -> FilePath {
    let root = temporaryFolder()
    let png = try readImageFile(hostilePath("small_rgb.png"))
    let jpeg = try readImageFile(hostilePath("small.jpg"))
    func file(_ relative: FilePath, _ bytes: [UInt8]) throws {
      try writeAtomically(bytes, to: root.appending(relative))
    }
    func folder(_ relative: FilePath) {
      _ = root.appending(relative).withCString { mkdir($0, 0o755) }
    }
    func link(_ target: String, _ relative: FilePath) {
      _ = root.appending(relative).withCString { symlink(target, $0) }
    }

    try file("a.png", png)
    try file("B.JPG", jpeg)
    try file("notes.txt", Array("not an image".utf8))
    try file("no-extension", png)  // found by its signature
    try file(".hidden.png", png)
    try file("._a.png", Array("AppleDouble".utf8))
    folder("sub")
    folder("sub/deeper")
    try file("sub/c.jpeg", jpeg)
    try file("sub/deeper/d.png", png)
    folder("folder.png")
    try file("folder.png/e.png", png)
    folder(".git")
    try file(".git/hidden.png", png)
    try file(FilePath(bytes: [0xFF, 0x41] + Array(".png".utf8)), png)
    _ = root.appending("pipe.jpg").withCString { mkfifo($0, 0o644) }
    link("missing.png", "dangling.png")
    link("loop.jpg", "loop.jpg")
    link(".", "sub/back-to-sub")
    link("..", "sub/deeper/up")
    link("sub/c.jpeg", "link-to-c.jpg")
    return root
  }

  @Test func listsImagesSortedAndReportsUnusableEntries() throws {
    let root = try makeTree()
    let scan = scanImageFiles(in: root)
    let images = scan.images.map { $0.bytes }
    let expected: [FilePath] = [
      "B.JPG", "a.png", "folder.png/e.png", "link-to-c.jpg", "no-extension", "sub/c.jpeg",
      "sub/deeper/d.png", FilePath(bytes: [0xFF, 0x41] + Array(".png".utf8)),
    ]
    #expect(images == expected.map { root.appending($0).bytes })

    let problems = Dictionary(
      uniqueKeysWithValues: scan.problems.map { ($0.path.lastComponent.description, $0.reason) })
    #expect(problems.count == 5, "\(scan.problems)")
    #expect(problems["pipe.jpg"] == "not a regular file (a FIFO)")
    #expect(problems["dangling.png"]?.hasPrefix("dangling symbolic link") == true)
    #expect(problems["loop.jpg"]?.hasPrefix("symbolic link loop") == true)
    #expect(problems["back-to-sub"]?.hasPrefix("symbolic link loop") == true)
    #expect(problems["up"]?.hasPrefix("symbolic link loop") == true)
  }

  @Test func imagesInOtherFormatsAreListedApart() throws {
    let root = temporaryFolder()
    let png = try readImageFile(hostilePath("small_rgb.png"))
    try writeAtomically(png, to: root.appending("a.png"))
    try writeAtomically(png, to: root.appending("really_png.webp"))  // PNG inside: an image
    for name in ["sub/b.HEIC", "c.webp", "d.tif", ".hidden.gif", "notes.txt"] {
      try FileManager.default.createDirectory(
        atPath: root.appending(FilePath(name)).parent.description,
        withIntermediateDirectories: true)
      try writeAtomically(Array("not decoded".utf8), to: root.appending(FilePath(name)))
    }

    let scan = scanImageFiles(in: root)
    #expect(scan.images == ["a.png", "really_png.webp"].map { root.appending($0) })
    #expect(scan.unsupported == ["c.webp", "d.tif", "sub/b.HEIC"].map { root.appending($0) })
    #expect(scan.problems.isEmpty)
  }

  @Test func aFolderBeyondThePathLimitIsAProblemNotSilentlySkipped() throws {
    // 220 nested 20-letter folders (about 4600 bytes, beyond PATH_MAX), made level by level
    // through descriptors, with an image at the bottom.
    let root = temporaryFolder()
    let name = String(repeating: "d", count: 20)
    var descriptors = [root.withCString { open($0, O_RDONLY | O_DIRECTORY) }]
    defer {
      for level in descriptors.indices.reversed() {
        if level + 1 < descriptors.count {
          _ = unlinkat(descriptors[level], name, AT_REMOVEDIR)
        } else {
          _ = unlinkat(descriptors[level], "a.png", 0)
        }
        close(descriptors[level])
      }
      try? FileManager.default.removeItem(atPath: root.description)
    }
    for _ in 0..<220 {
      let parent = descriptors.last!
      try #require(mkdirat(parent, name, 0o755) == 0)
      descriptors.append(openat(parent, name, O_RDONLY | O_DIRECTORY))
      try #require(descriptors.last! >= 0)
    }
    let png = try readImageFile(hostilePath("small_rgb.png"))
    let file = openat(descriptors.last!, "a.png", O_CREAT | O_WRONLY, 0o644)
    try #require(file >= 0)
    _ = png.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
    close(file)

    let scan = scanImageFiles(in: root)
    #expect(scan.images.isEmpty)
    try #require(scan.problems.count == 1, "\(scan.problems)")
    let problem = scan.problems[0]
    #expect(problem.path.bytes.count >= Int(PATH_MAX), "\(problem.path.bytes.count) bytes")
    #expect(
      problem.reason
        == "the path is \(problem.path.bytes.count) bytes long, more than the system's limit of "
        + "\(PATH_MAX); move or rename folders to shorten it")
  }

  /// Permissions do not stop root, so this runs only for other users.
  @Test(.enabled(if: geteuid() != 0, "root can read any file"))
  func unreadableImageIsAProblem() throws {
    let root = temporaryFolder()
    let path = root.appending("locked.png")
    try writeAtomically(try readImageFile(hostilePath("small_rgb.png")), to: path)
    #expect(chmod(path.description, 0) == 0)
    let scan = scanImageFiles(in: root)
    #expect(scan.images.isEmpty)
    #expect(scan.problems.map(\.path) == [path])
    #expect(scan.problems.first?.reason.hasPrefix("cannot read the file") == true)
  }

  @Test func aFileRootIsListedWhateverItsName() throws {
    let root = try makeTree()
    let scan = scanImageFiles(in: [root.appending("notes.txt"), root.appending("nothing")])
    #expect(scan.images == [root.appending("notes.txt")])
    #expect(
      scan.problems == [
        ScanProblem(path: root.appending("nothing"), reason: "no such file or folder")
      ])
  }

  @Test func everyListedImageDecodesOrFailsWithANamedError() throws {
    let root = try makeTree()
    for path in scanImageFiles(in: root).images {
      do {
        let image = try Image(contentsOf: path)
        #expect(image.width > 0)
      } catch {
        #expect(error.path == path)
      }
    }
  }
}
