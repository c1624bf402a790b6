/// The folder of one training run, `checkpoints/NAME/`:
///
/// ```
/// options.json          the resolved options, written at the start
/// log.txt               plain progress lines (appended)
/// losses.jsonl          one JSON object per logged step (losses, learning rate, time)
/// samples/              sample translations, e.g. epoch003_iter000400_fake_B.png
/// index.html            sample grids per epoch and loss curves (inline SVG)
/// latest/               the newest checkpoint (model directory plus training state)
/// epoch_005/ …          numbered checkpoints every --save-epoch-freq epochs
/// ```
import Checkpoints
import Foundation

/// One line of `losses.jsonl`.
public struct LossRecord: Codable, Sendable, Equatable {
  public var epoch: Int
  /// Steps done since the start of the run, this one included.
  public var iteration: Int
  /// Steps done in this epoch, this one included.
  public var stepInEpoch: Int
  public var learningRate: Double
  /// Seconds since the run (or its latest continuation) started.
  public var seconds: Double
  public var losses: Losses
}

/// Paths inside a run folder and the writes to them.
public struct RunFolder: Sendable {
  public let path: String

  public init(path: String) { self.path = path }

  public var optionsFile: String { path + "/options.json" }
  public var logFile: String { path + "/log.txt" }
  public var lossFile: String { path + "/losses.jsonl" }
  public var samplesFolder: String { path + "/samples" }
  public var reportFile: String { path + "/index.html" }
  public var latestCheckpoint: String { path + "/latest" }

  /// The numbered checkpoint written at the end of `epoch`.
  public func epochCheckpoint(_ epoch: Int) -> String {
    path + "/" + String(format: "epoch_%03d", epoch)
  }

  /// Makes the folder and its `samples` subfolder.
  public func create() throws(TrainingError) {
    do {
      try FileManager.default.createDirectory(
        atPath: samplesFolder, withIntermediateDirectories: true)
    } catch {
      throw .file(path: path, reason: "cannot create the run folder: \(fileErrorReason(error))")
    }
  }

  /// Writes `options.json` atomically.
  public func saveOptions(_ options: TrainingOptions) throws(TrainingError) {
    try writeJSON(options, to: optionsFile)
  }

  /// Reads `options.json`.
  public func loadOptions() throws(TrainingError) -> TrainingOptions {
    try readJSON(TrainingOptions.self, from: optionsFile)
  }

  /// Appends one line to `log.txt`.
  public func appendLog(_ line: String) throws(TrainingError) {
    try append(line + "\n", to: logFile)
  }

  /// Appends one record to `losses.jsonl`.
  public func appendLoss(_ record: LossRecord) throws(TrainingError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
      let data = try encoder.encode(record)
      try append(String(decoding: data, as: UTF8.self) + "\n", to: lossFile)
    } catch let error as TrainingError {
      throw error
    } catch {
      throw .file(path: lossFile, reason: "cannot encode a loss record: \(error)")
    }
  }

  /// Every record of `losses.jsonl` (none if it does not exist). A torn last line, from a run
  /// killed while writing, is ignored.
  public func loadLosses() throws(TrainingError) -> [LossRecord] {
    guard FileManager.default.fileExists(atPath: lossFile) else { return [] }
    let text: String
    do {
      text = try String(contentsOfFile: lossFile, encoding: .utf8)
    } catch {
      throw .file(path: lossFile, reason: "cannot read: \(fileErrorReason(error))")
    }
    let decoder = JSONDecoder()
    return text.split(separator: "\n").compactMap {
      try? decoder.decode(LossRecord.self, from: Data($0.utf8))
    }
  }

  /// Rewrites `losses.jsonl` with only the records up to `iteration`, so that a continued run
  /// does not log the steps after its checkpoint twice.
  public func truncateLosses(after iteration: Int) throws(TrainingError) {
    let kept = try loadLosses().filter { $0.iteration <= iteration }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var text = ""
    for record in kept {
      guard let data = try? encoder.encode(record) else { continue }
      text += String(decoding: data, as: UTF8.self) + "\n"
    }
    try writeAtomically(Data(text.utf8), to: lossFile)
  }
}

/// Writes `data` to a temporary file beside `path`, flushed, then renamed over `path`.
func writeAtomically(_ data: Data, to path: String) throws(TrainingError) {
  do {
    try AtomicFile.write([UInt8](data), to: URL(fileURLWithPath: path))
  } catch {
    throw .file(path: path, reason: error.reason)
  }
}

/// Writes `value` as pretty, key-sorted JSON, atomically.
func writeJSON<Value: Encodable>(_ value: Value, to path: String) throws(TrainingError) {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  encoder.nonConformingFloatEncodingStrategy = .convertToString(
    positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
  let data: Data
  do {
    data = try encoder.encode(value)
  } catch {
    throw .file(path: path, reason: "cannot encode JSON: \(error)")
  }
  try writeAtomically(data + Data("\n".utf8), to: path)
}

/// Reads JSON written by `writeJSON`.
func readJSON<Value: Decodable>(_ type: Value.Type, from path: String) throws(TrainingError)
  -> Value
{
  let data: Data
  do {
    data = try Data(contentsOf: URL(fileURLWithPath: path))
  } catch {
    throw .file(path: path, reason: "cannot read: \(fileErrorReason(error))")
  }
  let decoder = JSONDecoder()
  decoder.nonConformingFloatDecodingStrategy = .convertFromString(
    positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
  do {
    return try decoder.decode(type, from: data)
  } catch {
    throw .file(path: path, reason: "not the expected JSON: \(error)")
  }
}

/// Appends `text` to the file at `path`, creating it if needed.
private func append(_ text: String, to path: String) throws(TrainingError) {
  let manager = FileManager.default
  if !manager.fileExists(atPath: path) {
    guard manager.createFile(atPath: path, contents: nil) else {
      throw .file(path: path, reason: "cannot create")
    }
  }
  do {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
  } catch {
    throw .file(path: path, reason: "cannot append: \(fileErrorReason(error))")
  }
}
