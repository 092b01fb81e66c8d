"""A world of simulated Article 6.2 registries, for demos and end-to-end tests.

- `scenario.load_scenario(path) -> Scenario`: a scenario TOML (config/scenarios/), checked.
- `world.generate_world(scenario) -> World`: every record and holdings snapshot of every
  registry, and the ground truth of the planted conflicts (pure, seeded).
- `truth.write_truth(world, path)` / `truth.score(conflicts, alerts)`: the planted truth
  and precision / recall of a set of alerts against it.
- `runner.SimulatorServer(world, clock)`: each registry on its own loopback port,
  speaking the exchange API (behind `faults.FaultInjector` when the scenario says so).
- `demo.build_demo(folder, world)`: the whole `metareg demo` stack.
"""
