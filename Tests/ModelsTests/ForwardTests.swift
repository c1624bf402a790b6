/// Forward outputs, parameter gradients and running statistics of small networks against
/// PyTorch with the same weights and inputs (Fixtures/tiny/).
import Foundation
import Testing

@testable import Models
@testable import NeuralNet
@testable import Tensors

struct TinyCase: Decodable {
  var config: FixtureNetworkConfiguration
  var mode: String
}

@Suite struct ForwardTests {
  static let cases = Result {
    try loadJSONFixture("tiny/cases.json", as: [String: TinyCase].self)
  }

  static var caseNames: [String] {
    (try? cases.get().keys.sorted()) ?? ["fixture missing"]
  }

  /// Loads the case's weights, runs the forward in its mode, back-propagates
  /// `mean(output · L)`, and compares the output, every parameter's gradient and (in training)
  /// the updated running statistics with PyTorch's.
  @Test(arguments: caseNames)
  func outputGradientsAndStatisticsMatchPyTorch(caseName: String) throws {
    let tinyCase = try #require(try Self.cases.get()[caseName])
    let network = try tinyCase.config.build()
    try network.loadStateDictionary(loadTensors("tiny/\(caseName).weights.safetensors"))
    let reference = try loadTensors("tiny/\(caseName).io.safetensors")
    network.setTraining(tinyCase.mode == "train")

    let input = try #require(reference["input"])
    let output = network(input)
    expectClose(
      output, try #require(reference["output"]), rtol: 1e-4, atol: 2e-5, "\(caseName) output")

    let lossWeights = try #require(reference["loss_weights"])
    (output * lossWeights).mean().backward()
    for (name, parameter) in network.namedParameters() {
      let expected = try #require(reference["grad." + name], "\(name) has no reference gradient")
      let gradient = try #require(parameter.gradient, "\(name) got no gradient")
      // Gradients run through up to a dozen norms: tolerance relative to the largest one.
      let scale = expected.scalars.map(abs).max() ?? 0
      expectClose(gradient, expected, rtol: 1e-3, atol: 1e-4 * scale + 1e-7, "\(caseName) ∂\(name)")
    }

    for (name, buffer) in network.namedBuffers() {
      guard let expected = reference["after." + name] else { continue }
      expectClose(buffer.value, expected, rtol: 1e-5, atol: 1e-6, "\(caseName) \(name)")
    }
    if tinyCase.mode == "train" {
      let tracked = reference.keys.filter { $0.hasPrefix("after.") }
      #expect(tracked.count == network.namedBuffers().count, "\(caseName): buffers compared")
    }
  }
}
