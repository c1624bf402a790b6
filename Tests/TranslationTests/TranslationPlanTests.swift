import Foundation
import ImageIO
import Testing

@testable import Translation

/// A folder with empty files at `names` (relative paths), for planning tests that never decode.
func folderWithFiles(_ names: [String]) throws -> FilePath {
  let root = temporaryFolder().appending("in")
  for name in names {
    let path = root.appending(FilePath(name))
    try FileManager.default.createDirectory(
      atPath: path.parent.description, withIntermediateDirectories: true)
    // A PNG signature, so that the scan and the format sniffing see an image.
    try writeAtomically([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], to: path)
  }
  return root
}

@Test func outputsMirrorTheTreeAndTakeTheFormatsExtension() throws {
  let root = try folderWithFiles(["a.png", "sub/b.PNG", "sub/deep/c.png"])
  let out = root.parent.appending("out")
  let same = try TranslationPlanner.plan(input: root, output: out, format: nil)
  #expect(
    same.files.map(\.output) == ["a.png", "sub/b.PNG", "sub/deep/c.png"].map { out.appending($0) })
  #expect(same.files.map(\.relativePath) == ["a.png", "sub/b.PNG", "sub/deep/c.png"])

  let jpeg = try TranslationPlanner.plan(input: root, output: out, format: .jpeg)
  #expect(
    jpeg.files.map(\.output) == ["a.jpg", "sub/b.jpg", "sub/deep/c.jpg"].map { out.appending($0) })
  #expect(jpeg.files.allSatisfy { $0.format == .jpeg && !$0.isRenamed })
  #expect(jpeg.notes.isEmpty)
}

@Test func twoInputsMeetingOnOneOutputGetDistinctNames() throws {
  let root = try folderWithFiles(["photo.jpg", "photo.png", "photo.jpg.png"])
  let out = root.parent.appending("out")
  let plan = try TranslationPlanner.plan(input: root, output: out, format: .png)
  let outputs = Dictionary(uniqueKeysWithValues: plan.files.map { ($0.relativePath, $0.output) })
  // photo.png keeps its name; photo.jpg would be written under its own full name, but that
  // is photo.jpg.png's output, so it gets a number.
  #expect(outputs["photo.png"] == out.appending("photo.png"))
  #expect(outputs["photo.jpg.png"] == out.appending("photo.jpg.png"))
  #expect(outputs["photo.jpg"] == out.appending("photo.jpg-2.png"))
  #expect(Set(outputs.values).count == plan.files.count)
  #expect(plan.files.filter(\.isRenamed).map(\.relativePath) == ["photo.jpg"])
  #expect(plan.notes.count == 1 && plan.notes[0].contains("photo.jpg-2.png"))
}

@Test func anOutputOnAnInputIsRefused() throws {
  let root = try folderWithFiles(["a.png", "b.jpg"])
  #expect(throws: PlanError.outputFolderIsInputFolder(root)) {
    try TranslationPlanner.plan(input: root, output: root, format: nil)
  }
  // The same folder spelt differently.
  let spelt = root.appending("../in/.")
  #expect(throws: PlanError.outputFolderIsInputFolder(spelt)) {
    try TranslationPlanner.plan(input: root, output: spelt, format: nil)
  }
  let file = root.appending("a.png")
  #expect(throws: PlanError.outputIsInput(input: file, output: file)) {
    try TranslationPlanner.plan(input: file, output: file, format: nil)
  }
  // Through a link to the input's folder.
  let link = root.parent.appending("link")
  #expect(link.withCString { symlink(root.description, $0) } == 0)
  #expect(throws: PlanError.outputIsInput(input: file, output: link.appending("a.png"))) {
    try TranslationPlanner.plan(input: file, output: link.appending("a.png"), format: nil)
  }
}

@Test func anOutputFolderInsideTheInputIsNotRescanned() throws {
  let root = try folderWithFiles(["a.png", "results/a.png", "results/old/b.png"])
  let plan = try TranslationPlanner.plan(
    input: root, output: root.appending("results"), format: nil)
  #expect(plan.files.map(\.relativePath) == ["a.png"])
  #expect(plan.files.map(\.output) == [root.appending("results/a.png")])
  #expect(plan.notes.count == 1 && plan.notes[0].contains("2 image(s)"))
}

@Test func anOutputFolderReachedThroughALinkIsNotRescanned() throws {
  // in/results is a link to the output folder, which holds an earlier result.
  let root = try folderWithFiles(["a.png"])
  let out = root.parent.appending("out")
  let earlier = try folderWithFiles(["old.png"])
  try FileManager.default.moveItem(atPath: earlier.description, toPath: out.description)
  try FileManager.default.createSymbolicLink(
    atPath: root.appending("results").description, withDestinationPath: "../out")

  let plan = try TranslationPlanner.plan(input: root, output: out, format: nil)
  #expect(plan.files.map(\.relativePath) == ["a.png"])
  #expect(plan.files.map(\.output) == [out.appending("a.png")])
  #expect(
    plan.notes == [
      "the output folder \(out) is inside the input folder (through a symbolic link): the 1 "
        + "image(s) already in it are not inputs"
    ])
}

@Test func anInputFolderInsideTheOutputFolderKeepsAllItsFiles() throws {
  let root = try folderWithFiles(["a.png", "sub/b.png"])
  let plan = try TranslationPlanner.plan(input: root, output: root.parent, format: nil)
  #expect(plan.files.map(\.relativePath) == ["a.png", "sub/b.png"])
  #expect(
    plan.files.map(\.output) == [
      root.parent.appending("a.png"), root.parent.appending("sub/b.png"),
    ])
  #expect(plan.notes.isEmpty)
}

@Test func singleFilesGoToAFileOrIntoAFolder() throws {
  let root = try folderWithFiles(["photo.png"])
  let input = root.appending("photo.png")
  let toFile = try TranslationPlanner.plan(
    input: input, output: root.appending("x.jpg"), format: nil)
  #expect(toFile.files.map(\.output) == [root.appending("x.jpg")])
  #expect(toFile.files.map(\.format) == [.jpeg])

  let folder = root.parent.appending("results/")
  let toFolder = try TranslationPlanner.plan(input: input, output: folder, format: .jpeg)
  #expect(toFolder.files.map(\.output) == [folder.appending("photo.jpg")])

  #expect(
    throws: PlanError.extensionContradictsFormat(output: root.appending("x.jpg"), format: .png)
  ) {
    try TranslationPlanner.plan(input: input, output: root.appending("x.jpg"), format: .png)
  }
  let jfif = try TranslationPlanner.plan(
    input: input, output: root.appending("x.jfif"), format: nil)
  #expect(jfif.files.map(\.format) == [.jpeg])
  #expect(throws: PlanError.unsupportedOutputExtension(root.appending("x.gif"))) {
    try TranslationPlanner.plan(input: input, output: root.appending("x.gif"), format: nil)
  }
  #expect(throws: PlanError.outputIsFileForFolderInput(input: root, output: input)) {
    try TranslationPlanner.plan(input: root, output: input, format: nil)
  }
  let missing = root.appending("missing.png")
  #expect(throws: PlanError.unusableInput(missing, reason: "no such file or folder")) {
    try TranslationPlanner.plan(input: missing, output: folder, format: nil)
  }
  // A link to itself is a loop, not a dangling link.
  let loop = root.appending("loop.png")
  _ = loop.withCString { symlink("loop.png", $0) }
  #expect(
    throws: PlanError.unusableInput(loop, reason: "symbolic link loop (too many levels of links)")
  ) {
    try TranslationPlanner.plan(input: loop, output: folder, format: nil)
  }
  let dangling = root.appending("dangling.png")
  _ = dangling.withCString { symlink("nowhere.png", $0) }
  #expect(
    throws: PlanError.unusableInput(
      dangling, reason: "dangling symbolic link (its target does not exist)")
  ) {
    try TranslationPlanner.plan(input: dangling, output: folder, format: nil)
  }
}

@Test func renamingKeepsFittingExtensionsAndReplacesOthers() {
  #expect(TranslationPlanner.renamed("a/Photo.JPEG", to: .jpeg) == "a/Photo.JPEG")
  #expect(TranslationPlanner.renamed("a/Photo.JPEG", to: .png) == "a/Photo.png")
  #expect(TranslationPlanner.renamed("scan", to: .png) == "scan.png")
  #expect(TranslationPlanner.renamed("x/scan.data", to: .jpeg) == "x/scan.data.jpg")
  // Every extension the scan takes as an image names its format.
  #expect(TranslationPlanner.renamed("b.jfif", to: .jpeg) == "b.jfif")
  #expect(TranslationPlanner.renamed("b.JFIF", to: .png) == "b.png")
  #expect(TranslationPlanner.renamed("b.jpe", to: .png) == "b.png")
  let latin1 = FilePath(bytes: [0x63, 0xE9, 0x2E, 0x6A, 0x70, 0x67])  // "cé.jpg" in Latin-1
  #expect(
    TranslationPlanner.renamed(latin1, to: .png)
      == FilePath(bytes: [0x63, 0xE9, 0x2E, 0x70, 0x6E, 0x67]))
}

@Test func anOutputThatCannotBeWrittenIsRefusedBeforeAnyWork() throws {
  let root = try folderWithFiles(["a.png", "sub/b.png"])

  // Below a file: no folder can be made there.
  let underFile = root.appending("a.png/out")
  #expect(
    throws: PlanError.unwritableOutput(
      underFile, reason: "\(root.appending("a.png").absoluteNormalized) is not a folder")
  ) {
    try TranslationPlanner.plan(input: root, output: underFile, format: nil)
  }
  #expect(throws: PlanError.self) {
    try TranslationPlanner.plan(input: root.appending("a.png"), output: underFile, format: nil)
  }

  // A folder that refuses new files even to root (/sys is read-only for file creation).
  let refusing = FilePath("/sys/transmute-out")
  do {
    _ = try TranslationPlanner.plan(input: root, output: refusing, format: nil)
    Issue.record("\(refusing) was accepted as an output folder")
  } catch {
    #expect(error.description.hasPrefix("the outputs cannot be written to /sys/transmute-out: "))
    #expect(error.description.contains("cannot create a file in /sys"))
  }

  // A writable folder passes, and the probe leaves nothing behind.
  let out = root.parent.appending("out")
  let plan = try TranslationPlanner.plan(input: root, output: out, format: nil)
  #expect(plan.files.count == 2)
  let left = try FileManager.default.contentsOfDirectory(atPath: root.parent.description)
  #expect(left.sorted() == ["in"], "\(left)")
}
