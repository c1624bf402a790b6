/// LR schedules against PyTorch's schedulers set up as the CycleGAN reference does
/// (Fixtures/schedules.json).
import Foundation
import Testing

@testable import NeuralNet

struct SchedulesFixture: Decodable {
  struct Case: Decodable {
    var name: String
    var policy: String
    var n_epochs: Int?
    var n_epochs_decay: Int?
    var epoch_count: Int?
    var step_size: Int?
    var gamma: Double?
    var t_max: Int?
    var eta_min: Double?
    var factor: Double?
    var threshold: Double?
    var patience: Int?
    var metrics: [Double]?
    var rates: [Double]
  }
  var base_lr: Double
  var cases: [Case]
}

@Suite struct ScheduleTests {
  static let fixture = Result { try loadFixture("schedules.json", as: SchedulesFixture.self) }

  static var caseNames: [String] {
    (try? fixture.get().cases.map(\.name)) ?? ["fixture missing"]
  }

  @Test(arguments: caseNames)
  func ratesMatchPyTorchEpochByEpoch(caseName: String) throws {
    let fixture = try Self.fixture.get()
    let scheduleCase = try #require(fixture.cases.first { $0.name == caseName })
    let policy: LearningRatePolicy
    switch scheduleCase.policy {
    case "linear":
      policy = .linear(
        constantEpochs: try #require(scheduleCase.n_epochs),
        decayEpochs: try #require(scheduleCase.n_epochs_decay),
        startEpoch: try #require(scheduleCase.epoch_count))
    case "step":
      policy = .step(
        stepEpochs: try #require(scheduleCase.step_size), factor: try #require(scheduleCase.gamma))
    case "cosine":
      policy = .cosine(
        periodEpochs: try #require(scheduleCase.t_max), minimum: try #require(scheduleCase.eta_min))
    default:
      policy = .plateau(
        factor: try #require(scheduleCase.factor), threshold: try #require(scheduleCase.threshold),
        patience: try #require(scheduleCase.patience))
    }
    var schedule = LearningRateSchedule(baseLearningRate: fixture.base_lr, policy: policy)
    var rates = [schedule.learningRate]
    for epoch in 0..<(scheduleCase.rates.count - 1) {
      schedule.step(metric: scheduleCase.metrics?[epoch])
      rates.append(schedule.learningRate)
    }
    for (epoch, (actual, expected)) in zip(rates, scheduleCase.rates).enumerated() {
      #expect(
        abs(actual - expected) <= 1e-15 + 1e-9 * abs(expected),
        "\(caseName) after \(epoch) steps: \(actual) vs \(expected)")
    }
  }

  @Test func scheduleStateSurvivesEncodingMidway() throws {
    var schedule = LearningRateSchedule(
      baseLearningRate: 1, policy: .plateau(factor: 0.5, threshold: 0.01, patience: 1))
    for metric in [3.0, 2.0, 2.0] { schedule.step(metric: metric) }
    let data = try JSONEncoder().encode(schedule)
    var restored = try JSONDecoder().decode(LearningRateSchedule.self, from: data)
    #expect(restored == schedule)
    schedule.step(metric: 2)
    restored.step(metric: 2)
    #expect(restored.learningRate == 0.5)
    #expect(restored == schedule)
  }
}
