/// The opt-in Profiler of Tensors and how Sequential and the optimisers report to it. The
/// Profiler has one session per process, so every test that starts one is in this suite.
import Foundation
import Testing

@testable import NeuralNet
@testable import Tensors

@Suite(.serialized) struct ProfilingTests {
  /// A small network, its input and an Adam over its parameters, with fixed weights.
  func makeNetwork() -> (Sequential, Tensor, Adam) {
    var random = RandomGenerator(seed: 7)
    let network = Sequential(
      Pad2d(.reflection, padding: 1),
      Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3),
      InstanceNorm2d(channels: 3),
      ReLU())
    Initialization().apply(to: network, using: &random)
    let input = Tensor.randomUniform(
      shape: [1, 2, 6, 6], lowerBound: -1, upperBound: 1, using: &random)
    let adam = Adam(parameters: network.namedParameters(), learningRate: 1e-3)
    return (network, input, adam)
  }

  /// One training step: forward, MSE against 0.5, a scaling outside any layer, backward, Adam.
  func trainingStep(_ network: Sequential, _ input: Tensor, _ adam: Adam) -> [Float] {
    adam.clearGradients()
    let output = network(input)
    let loss = mseLoss(output, Tensor(shape: output.shape, repeating: 0.5)) * 2
    loss.backward()
    adam.step()
    return network.parameters.flatMap { $0.value.scalars }
  }

  @Test func profilingIsOffByDefaultAndChangesNoResult() {
    #expect(!Profiler.isEnabled)
    let (plain, plainInput, plainAdam) = makeNetwork()
    let expected = trainingStep(plain, plainInput, plainAdam)

    let (profiled, profiledInput, profiledAdam) = makeNetwork()
    Profiler.start()
    let actual = trainingStep(profiled, profiledInput, profiledAdam)
    _ = Profiler.stop()
    #expect(!Profiler.isEnabled)
    let worst = zip(actual, expected).enumerated().map {
      ($0.offset, abs($0.element.0 - $0.element.1))
    }
    .max { $0.1 < $1.1 }
    #expect(actual.count == expected.count)
    #expect(worst?.1 == 0, "worst difference \(worst?.1 ?? -1) at \(worst?.0 ?? -1)")
  }

  @Test func leafLayersLossesAndOptimizerCountUnderTheirLabels() {
    let (network, input, adam) = makeNetwork()
    let defaultLabel = LayerProfiling.label
    LayerProfiling.label = { $0 is Conv2d ? "convolution" : "\(type(of: $0))" }
    defer { LayerProfiling.label = defaultLabel }

    Profiler.start()
    _ = trainingStep(network, input, adam)
    let report = Profiler.stop()

    #expect(
      Set(report.forward.keys)
        == ["Pad2d", "convolution", "InstanceNorm2d", "ReLU", Profiler.lossLabel, "optimizer"])
    // The padding of the input (which needs no gradient) records no node; the scaling by 2
    // is recorded outside any span, the loss node under the loss's label.
    #expect(
      Set(report.backward.keys)
        == [
          "convolution", "InstanceNorm2d", "ReLU", Profiler.lossLabel, Profiler.unlabelled,
        ])
    #expect(report.forward.values.allSatisfy { $0 >= 0 })
    let nodeSeconds = report.backward.values.reduce(0, +)
    #expect(nodeSeconds <= report.backwardSeconds, "\(nodeSeconds) > \(report.backwardSeconds)")
    #expect(report.backwardSeconds > 0)
  }

  @Test func nestedSpansCountEachSecondOnce() {
    Profiler.start()
    let start = Profiler.now()
    Profiler.measure("outer") {
      Thread.sleep(forTimeInterval: 0.02)
      Profiler.measure("inner") { Thread.sleep(forTimeInterval: 0.03) }
    }
    let total = Profiler.now() - start
    let report = Profiler.stop()

    let inner = report.forward["inner"] ?? -1
    let outer = report.forward["outer"] ?? -1
    #expect(inner >= 0.03, "inner \(inner)")
    #expect(outer >= 0.02, "outer \(outer)")
    #expect(abs(inner + outer - total) < 1e-3, "inner \(inner) + outer \(outer) vs \(total)")
  }

  @Test func otherThreadsAreNotCounted() {
    Profiler.start()
    let done = DispatchSemaphore(value: 0)
    let worker = Thread {
      #expect(!Profiler.isEnabled)
      let x = Tensor(shape: [4], scalars: [1, 2, 3, 4], requiresGradient: true)
      Profiler.measure("elsewhere") { (x * 3).sum() }.backward()
      done.signal()
    }
    worker.start()
    done.wait()
    let report = Profiler.stop()
    #expect(report.forward.isEmpty && report.backward.isEmpty && report.backwardSeconds == 0)
  }
}
