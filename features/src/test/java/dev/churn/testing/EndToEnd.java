package dev.churn.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * A test class that proves its claim through the command line on warehouses it builds (the top of the pyramid):
 * {@code mvn -B verify} runs it, the everyday loop {@code mvn -B -Pquick verify} leaves it out. Claims a small
 * in-memory Dataset can prove belong in an untagged class instead.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag(EndToEnd.TAG)
public @interface EndToEnd {
  /** The JUnit tag, excluded by the {@code quick} profile of the parent POM. */
  String TAG = "e2e";
}
