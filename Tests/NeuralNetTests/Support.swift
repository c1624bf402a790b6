/// Fixture loading and tolerance checks for the NeuralNet tests.
import Foundation
import Testing

@testable import NeuralNet
@testable import Tensors

/// The folder of this target's fixtures (written by scripts/make_nn_fixtures.py).
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("Fixtures")

/// A tensor as the fixture scripts write it.
struct FixtureTensor: Decodable {
  var shape: [Int]
  var data: [Float]
  var tensor: Tensor { Tensor(shape: shape, scalars: data) }
}

/// Decodes a JSON fixture.
func loadFixture<Value: Decodable>(_ name: String, as type: Value.Type) throws -> Value {
  let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent(name))
  return try JSONDecoder().decode(Value.self, from: data)
}

/// The worst violation of `|a − e| ≤ atol + rtol·|e|` over two equally shaped arrays: the
/// index, the difference and the allowed difference there, or `nil` when all elements pass.
func worstViolation(
  _ actual: [Float], _ expected: [Float], rtol: Float, atol: Float
) -> (index: Int, difference: Float, allowed: Float)? {
  var worst: (index: Int, difference: Float, allowed: Float)?
  var worstExcess: Float = 0
  for index in expected.indices {
    let difference = abs(actual[index] - expected[index])
    let allowed = atol + rtol * abs(expected[index])
    let excess = difference.isNaN ? .infinity : difference - allowed
    if excess > worstExcess {
      worstExcess = excess
      worst = (index, difference, allowed)
    }
  }
  return worst
}

/// Expects `actual` to equal `expected` in shape and within `atol + rtol·|expected|` element by
/// element; a failure names the worst element.
func expectClose(
  _ actual: Tensor, _ expected: Tensor, rtol: Float, atol: Float, _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    actual.shape == expected.shape, "\(what): shape \(actual.shape) ≠ \(expected.shape)",
    sourceLocation: sourceLocation)
  guard actual.shape == expected.shape else { return }
  let worst = worstViolation(actual.scalars, expected.scalars, rtol: rtol, atol: atol)
  let detail = worst.map {
    "worst |difference| \($0.difference) > allowed \($0.allowed) at index \($0.index) "
      + "(actual \(actual.scalars[$0.index]), expected \(expected.scalars[$0.index]))"
  }
  #expect(
    worst == nil, "\(what): \(detail ?? "")",
    sourceLocation: sourceLocation)
}

/// Mean and standard deviation (population) of some values.
func meanAndDeviation(_ values: [Float]) -> (mean: Double, deviation: Double) {
  let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
  let variance =
    values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
  return (mean, variance.squareRoot())
}
