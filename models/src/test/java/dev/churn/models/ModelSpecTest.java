package dev.churn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The model spec's JSON: its parts round-trip, and a spec stored before the parts existed still loads. */
class ModelSpecTest {

  private static String resource(String name) throws IOException {
    try (InputStream in = ModelSpecTest.class.getResourceAsStream("/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void aFlatSpecWrittenBeforeThePartsLoadsIntoThemAndRoundTrips() throws IOException {
    // A model v1 spec.json as the demo wrote it before this change, trimmed to two numeric features and a plan.
    ModelSpec spec = ModelSpec.fromJson(resource("spec-v1-flat.json"));
    assertEquals(1, spec.version());
    assertEquals(new ModelSpec.Split("2026-07-29", 30,
        List.of("2026-04-04", "2026-04-18", "2026-05-02", "2026-05-16", "2026-05-30"), "2026-06-29", null, null),
        spec.split());
    assertEquals("2026-06-29", spec.split().reportedDate(), "an old spec reported its validation snapshot");
    assertEquals(List.of("logins_7d", "tenure_days"), spec.inputs().numeric());
    assertEquals(List.of("logins_7d", "tenure_days", "plan"), spec.inputs().all());
    assertEquals(List.of("logins_7d", "tenure_days", "plan", "plan"), spec.inputs().slots());
    assertEquals(0.05, spec.fit().regParam());
    assertEquals(7, spec.fit().seed());
    assertEquals(2, spec.fit().tuning().size());
    assertEquals(0.06362569294806635, spec.tiers().high());
    assertEquals(0.756495468277947, spec.quality().validation().get("roc_auc"));
    assertEquals(spec.quality().validation(), spec.quality().reported());
    assertEquals(2, spec.quality().calibration().size());
    assertEquals(3, spec.quality().roc().size());
    assertEquals(List.of("logins_7d", "tenure_days"), List.copyOf(spec.drift().edges().keySet()));
    String json = spec.toJson();
    assertEquals(json, ModelSpec.fromJson(json).toJson(), "the parts round-trip");
  }
}
