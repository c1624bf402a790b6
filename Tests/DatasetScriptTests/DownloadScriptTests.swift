/// Tests of `datasets/download` against archives served from a local folder through a
/// `file://` address (the machine that runs the tests has no internet).
import Foundation
import Testing

/// A scratch folder with a mirror of the release and a destination for the datasets, removed
/// when the test is done with it.
final class Mirror {
  let root: URL
  var mirror: URL { root.appendingPathComponent("mirror") }
  var destination: URL { root.appendingPathComponent("datasets") }

  init() throws {
    root = FileManager.default.temporaryDirectory
      .appendingPathComponent("transmute-download-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: mirror, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: root) }

  /// Builds `NAME.zip` in the mirror from folders of one small PNG each, made inside `layout`.
  func publish(_ name: String, splits: [String], extra: [String] = []) throws {
    let source = root.appendingPathComponent("source-\(name)")
    for split in splits {
      let folder = source.appendingPathComponent("\(name)/\(split)")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try Data(Mirror.tinyPNG).write(to: folder.appendingPathComponent("1.png"))
    }
    try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
    let status = try run(
      "/usr/bin/zip", ["-qr", mirror.appendingPathComponent("\(name).zip").path, name] + extra,
      in: source)
    #expect(status.code == 0, "zip failed: \(status.error)")
  }

  /// Runs `datasets/download` with the mirror as its base address.
  func download(_ arguments: [String]) throws -> (code: Int32, output: String, error: String) {
    try run(
      scriptURL.path, arguments + ["--dest", destination.path], in: root,
      environment: ["TRANSMUTE_DATASETS_URL": mirror.absoluteString])
  }

  /// The smallest valid PNG: one grey pixel.
  static let tinyPNG: [UInt8] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A,
    0x7E, 0x9B, 0x55, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x48, 0xAF, 0xA4, 0x71, 0x00, 0x00, 0x00, 0x00, 0x49,
    0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
  ]
}

/// `datasets/download` in this checkout.
let scriptURL = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("datasets/download")

/// Runs a program and collects its exit status and output.
func run(
  _ program: String, _ arguments: [String], in directory: URL,
  environment: [String: String] = [:]
) throws -> (code: Int32, output: String, error: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: program)
  process.arguments = arguments
  process.currentDirectoryURL = directory
  process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  let output = Pipe()
  let error = Pipe()
  process.standardOutput = output
  process.standardError = error
  try process.run()
  let outputData = output.fileHandleForReading.readDataToEndOfFile()
  let errorData = error.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (
    process.terminationStatus, String(decoding: outputData, as: UTF8.self),
    String(decoding: errorData, as: UTF8.self)
  )
}

@Suite("datasets/download") struct DownloadScriptTests {
  @Test func installsACompleteDataset() throws {
    let mirror = try Mirror()
    try mirror.publish("horse2zebra", splits: ["trainA", "trainB", "testA", "testB"])

    let result = try mirror.download(["horse2zebra"])

    #expect(result.code == 0, "stderr: \(result.error)")
    for split in ["trainA", "trainB", "testA", "testB"] {
      let file = mirror.destination.appendingPathComponent("horse2zebra/\(split)/1.png")
      #expect(FileManager.default.fileExists(atPath: file.path), "missing \(file.path)")
    }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: mirror.destination.path)
    #expect(leftovers == ["horse2zebra"], "staging left behind: \(leftovers)")
  }

  @Test func refusesAnArchiveWithoutAllFourSplits() throws {
    let mirror = try Mirror()
    try mirror.publish("apple2orange", splits: ["trainA", "trainB", "testA"])

    let result = try mirror.download(["apple2orange"])

    #expect(result.code != 0)
    #expect(result.error.contains("no apple2orange/testB folder"), "stderr: \(result.error)")
    #expect(!FileManager.default.fileExists(atPath: mirror.destination.path + "/apple2orange"))
  }

  @Test func refusesATruncatedArchive() throws {
    let mirror = try Mirror()
    try mirror.publish("maps", splits: ["trainA", "trainB", "testA", "testB"])
    let archive = mirror.mirror.appendingPathComponent("maps.zip")
    let bytes = try Data(contentsOf: archive)
    try bytes.prefix(bytes.count / 2).write(to: archive)

    let result = try mirror.download(["maps"])

    #expect(result.code != 0)
    #expect(result.error.contains("not a complete zip archive"), "stderr: \(result.error)")
    #expect(!FileManager.default.fileExists(atPath: mirror.destination.path + "/maps"))
  }

  @Test func refusesEntriesThatEscapeTheDestination() throws {
    let mirror = try Mirror()
    let outside = mirror.root.appendingPathComponent("outside.txt")
    try Data("escape".utf8).write(to: outside)
    try mirror.publish(
      "facades", splits: ["trainA", "trainB", "testA", "testB"], extra: ["../outside.txt"])

    let result = try mirror.download(["facades"])

    #expect(result.code != 0)
    #expect(result.error.contains("unsafe entry"), "stderr: \(result.error)")
  }

  @Test func keepsAnExistingDatasetUnlessForced() throws {
    let mirror = try Mirror()
    try mirror.publish("monet2photo", splits: ["trainA", "trainB", "testA", "testB"])
    #expect(try mirror.download(["monet2photo"]).code == 0)

    let again = try mirror.download(["monet2photo"])
    #expect(again.code != 0)
    #expect(again.error.contains("already exists"), "stderr: \(again.error)")

    #expect(try mirror.download(["monet2photo", "--force"]).code == 0)
  }

  @Test func namesTheKnownDatasetsForAnUnknownOne() throws {
    let mirror = try Mirror()
    let result = try mirror.download(["horse2unicorn"])
    #expect(result.code == 2)
    #expect(result.error.contains("unknown dataset 'horse2unicorn'"))
    #expect(result.error.contains("summer2winter_yosemite"))
  }

  @Test func explainsWhyCityscapesCannotBeFetched() throws {
    let mirror = try Mirror()
    let result = try mirror.download(["cityscapes"])
    #expect(result.code == 1)
    #expect(result.error.contains("licence"))
  }
}
