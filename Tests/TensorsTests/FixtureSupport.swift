import Foundation
import Testing

@testable import Tensors

/// The references written by `scripts/make_tensor_fixtures.py` (`Fixtures/ops.bin`).
struct OperationFixtures: Sendable {
  /// One operation's inputs, output, upstream gradient and gradients, by name.
  struct Case: Sendable {
    let parameters: [String: Double]
    let strings: [String: String]
    let tensors: [String: Tensor]

    /// The tensor called `name`, which the fixture must hold.
    func tensor(_ name: String) -> Tensor {
      guard let tensor = tensors[name] else {
        Issue.record("fixture case has no tensor \(name); it has \(tensors.keys.sorted())")
        return Tensor(shape: [0])
      }
      return tensor
    }

    /// An integer parameter.
    func integer(_ name: String) -> Int { Int(parameters[name] ?? .nan) }
  }

  /// The first outputs of RandomGenerator's algorithm, from an independent implementation.
  struct RandomReference: Sendable {
    var seed: UInt64 = 0
    var firstBits: [UInt64] = []
    var thenUniformFloats: [Double] = []
    var thenNormals: [Double] = []
  }

  let cases: [String: Case]
  let random: RandomReference

  /// Loads the fixture file beside this source file.
  static let shared: OperationFixtures = {
    do {
      return try OperationFixtures(url: fixturesDirectory.appendingPathComponent("ops.bin"))
    } catch {
      Issue.record("cannot load Fixtures/ops.bin: \(error)")
      return OperationFixtures(cases: [:], random: RandomReference())
    }
  }()

  static var fixturesDirectory: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
  }

  private init(cases: [String: Case], random: RandomReference) {
    self.cases = cases
    self.random = random
  }

  private struct FormatError: Error, CustomStringConvertible {
    let description: String
  }

  private init(url: URL) throws {
    let data = try Data(contentsOf: url)
    guard data.count >= 8, data.prefix(4) == Data("TFIX".utf8) else {
      throw FormatError(description: "\(url.path): not a TFIX file")
    }
    let headerLength = data[4..<8].enumerated().reduce(0) {
      $0 | Int($1.element) << (8 * $1.offset)
    }
    let header = data[8..<(8 + headerLength)]
    guard let root = try JSONSerialization.jsonObject(with: header) as? [String: Any],
      let caseEntries = root["cases"] as? [String: [String: Any]],
      let random = root["random"] as? [String: Any]
    else { throw FormatError(description: "\(url.path): malformed header") }
    let floats: [Float] = data[(8 + headerLength)...].withUnsafeBytes { raw in
      (0..<(raw.count / 4)).map { index in
        Float(
          bitPattern: UInt32(
            littleEndian: raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
      }
    }

    var cases: [String: Case] = [:]
    for (name, entry) in caseEntries {
      let rawParameters = entry["parameters"] as? [String: Any] ?? [:]
      var numbers: [String: Double] = [:]
      var strings: [String: String] = [:]
      for (key, value) in rawParameters {
        if let text = value as? String { strings[key] = text }
        if let flag = value as? Bool { numbers[key] = flag ? 1 : 0 }
        if let number = value as? NSNumber { numbers[key] = number.doubleValue }
      }
      var tensors: [String: Tensor] = [:]
      for (key, value) in entry["tensors"] as? [String: [String: Any]] ?? [:] {
        guard let shape = value["shape"] as? [Int], let offset = value["offset"] as? Int else {
          throw FormatError(description: "\(url.path): malformed tensor \(name).\(key)")
        }
        let count = shape.reduce(1, *)
        guard offset + count <= floats.count else {
          throw FormatError(description: "\(url.path): tensor \(name).\(key) beyond the data")
        }
        tensors[key] = Tensor(shape: shape, scalars: Array(floats[offset..<(offset + count)]))
      }
      cases[name] = Case(parameters: numbers, strings: strings, tensors: tensors)
    }
    var reference = RandomReference()
    reference.seed = UInt64(random["seed"] as? Int ?? 0)
    reference.firstBits = (random["first_bits"] as? [String] ?? []).compactMap { UInt64($0) }
    reference.thenUniformFloats = random["then_uniform_floats"] as? [Double] ?? []
    reference.thenNormals = random["then_normals"] as? [Double] ?? []
    self.init(cases: cases, random: reference)
  }

  /// The case called `name`, which the fixture must hold.
  func callAsFunction(_ name: String) -> Case {
    guard let found = cases[name] else {
      Issue.record("fixture has no case \(name)")
      return Case(parameters: [:], strings: [:], tensors: [:])
    }
    return found
  }
}

/// Expects `actual` to have `expected`'s shape and every element within
/// `atol + rtol·|expected|`; a failure names the worst element, its index and the difference.
func expectClose(
  _ actual: Tensor?, _ expected: Tensor, rtol: Float = 1e-4, atol: Float = 1e-5,
  _ label: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  guard let actual else {
    Issue.record(
      "\(label): no tensor (expected shape \(expected.shape))", sourceLocation: sourceLocation)
    return
  }
  guard actual.shape == expected.shape else {
    Issue.record(
      "\(label): shape \(actual.shape), expected \(expected.shape)", sourceLocation: sourceLocation)
    return
  }
  let a = actual.scalars
  let e = expected.scalars
  var worstIndex = -1
  var worstExcess = -Float.infinity
  for index in a.indices {
    let difference = abs(a[index] - e[index])
    let excess = difference - (atol + rtol * abs(e[index]))
    if excess > worstExcess || difference.isNaN {
      worstExcess = difference.isNaN ? .infinity : excess
      worstIndex = index
    }
  }
  guard worstIndex >= 0 else { return }
  #expect(
    worstExcess <= 0,
    """
    \(label): worst |Δ| = \(abs(a[worstIndex] - e[worstIndex])) at flat index \(worstIndex) \
    (actual \(a[worstIndex]), expected \(e[worstIndex]); rtol \(rtol), atol \(atol))
    """,
    sourceLocation: sourceLocation)
}
