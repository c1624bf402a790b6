import Foundation
import Testing

@testable import Checkpoints

/// Where the committed fixtures and the package's scripts are, found from this file's path.
enum FixturePaths {
  static let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static let fixtures = packageRoot.appendingPathComponent("Tests/CheckpointsTests/Fixtures")
  static let script = packageRoot.appendingPathComponent("scripts/make_checkpoint_fixtures.py")

  static func fixture(_ name: String) -> URL { fixtures.appendingPathComponent(name) }

  /// Decodes a JSON fixture into `T`.
  static func json<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(contentsOf: fixture(name)))
  }
}

/// A fresh folder under the system's temporary directory, removed by `remove()`.
struct ScratchFolder {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory
      .appendingPathComponent("CheckpointsTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func file(_ name: String) -> URL { url.appendingPathComponent(name) }

  func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Whether `python3` with torch, numpy and safetensors can run the fixture script's checks
/// (looked up without importing them, which is slow).
let pythonCanVerify: Bool = {
  let (status, _) = runPython([
    "-c",
    "import importlib.util as u, sys; "
      + "sys.exit(0 if all(u.find_spec(m) for m in ('torch', 'numpy', 'safetensors')) else 1)",
  ])
  return status == 0
}()

/// Runs `python3` with `arguments`; returns its exit status and standard error.
func runPython(_ arguments: [String]) -> (Int32, String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["python3"] + arguments
  let errors = Pipe()
  process.standardError = errors
  process.standardOutput = FileHandle.nullDevice
  do {
    try process.run()
  } catch {
    return (-1, "\(error)")
  }
  let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  process.waitUntilExit()
  return (process.terminationStatus, text)
}

/// Expects `body` to throw a `CheckpointError` of `kind` whose reason contains `fragment`.
func expectCheckpointError(
  _ kind: CheckpointError.Kind, mentioning fragment: String,
  sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
  do {
    try body()
    Issue.record(
      "expected a \(kind) error mentioning '\(fragment)', got none",
      sourceLocation: sourceLocation)
  } catch let error as CheckpointError {
    #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
    #expect(error.reason.contains(fragment), "\(error)", sourceLocation: sourceLocation)
  } catch {
    Issue.record("expected a CheckpointError, got \(error)", sourceLocation: sourceLocation)
  }
}
