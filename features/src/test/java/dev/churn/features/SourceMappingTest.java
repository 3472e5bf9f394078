package dev.churn.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SourceMappingTest {
  @Test
  void canonicalLogsUseEventIdsAndCancellations() {
    SourceMapping m = SourceMapping.canonical();
    assertEquals(SourceMapping.Identity.EVENT_ID, m.identity());
    assertEquals("cancellation:cancellation", m.churn().encode());
  }

  @Test
  void aLogWithoutEventIdIsIdentifiedByPosition() {
    SourceMapping m = SourceMapping.parse("{\"format\": \"csv\", \"columns\": {\"customer_id\": \"cust\"},"
        + " \"churn\": {\"inactivity_days\": 90}}");
    assertEquals(SourceMapping.Identity.POSITION, m.identity());
    assertTrue(m.churn().byInactivity());
    assertEquals("cust", m.sourceColumn("customer_id"));
    assertEquals(ChurnDefinition.inactivity(90), ChurnDefinition.decode(m.churn().encode()));

    SourceMapping ever = SourceMapping.parse("{\"format\": \"csv\", \"columns\": {\"customer_id\": \"cust\"},"
        + " \"churn\": {\"inactivity_days\": 90, \"population\": \"ever_active\"}}");
    assertEquals("inactivity:90:ever_active", ever.churn().encode());
    assertEquals(ChurnDefinition.inactivityEverActive(90), ChurnDefinition.decode(ever.churn().encode()));
    IllegalArgumentException bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> SourceMapping.parse("{\"format\": \"csv\", \"columns\": {\"customer_id\": \"c\"}, \"churn\": "
            + "{\"inactivity_days\": 90, \"population\": \"everyone\"}}"));
    assertEquals("mapping churn.population must be active or ever_active, not 'everyone'", bad.getMessage());
  }

  @Test
  void mistakesAreNamed() {
    assertEquals("mapping has unknown key 'colums'; known keys: ",
        assertThrows(IllegalArgumentException.class, () -> SourceMapping.parse("{\"colums\": {}}"))
            .getMessage().replaceAll("\\[.*\\]", ""));
    assertEquals("mapping maps event type 'buy' to 'purchase', which is not one of " + EventType.wireNames(),
        assertThrows(IllegalArgumentException.class,
            () -> SourceMapping.parse("{\"event_types\": {\"buy\": \"purchase\"}}")).getMessage());
    assertEquals("mapping churn.inactivity_days must be a positive number of days",
        assertThrows(IllegalArgumentException.class,
            () -> SourceMapping.parse("{\"churn\": {\"inactivity_days\": 0}}")).getMessage());
  }
}
