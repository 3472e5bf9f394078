package dev.churn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.churn.testing.SparkSuite;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The front door holds: the README, the changelog and every page under docs/ link only to files of the repository
 * that exist, and to headings those files have; the README stays at most 250 lines.
 */
class DocsLinksTest {
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
  private static final Pattern FENCE = Pattern.compile("(?s)```.*?```");
  private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");

  @Test
  void everyLinkResolvesToAFileAndAHeadingOfTheRepository() throws IOException {
    Path root = SparkSuite.repoRoot();
    List<Path> pages = new ArrayList<>(List.of(root.resolve("README.md"), root.resolve("CHANGELOG.md")));
    try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
    }
    List<String> broken = new ArrayList<>();
    int links = 0;
    int anchored = 0;
    for (Path page : pages) {
      Matcher m = LINK.matcher(FENCE.matcher(Files.readString(page)).replaceAll(""));
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("^[a-z]+:.*")) { // http:, https:, mailto:
          continue;
        }
        links++;
        int hash = target.indexOf('#');
        String path = hash < 0 ? target : target.substring(0, hash);
        Path file = path.isEmpty() ? page : page.getParent().resolve(path).normalize();
        if (!file.startsWith(root) || !Files.exists(file)) {
          broken.add(root.relativize(page) + ": " + target + " (no such file)");
        } else if (hash >= 0) {
          anchored++;
          if (!headings(file).contains(target.substring(hash + 1))) {
            broken.add(root.relativize(page) + ": " + target + " (no such heading)");
          }
        }
      }
    }
    assertEquals(List.of(), broken);
    assertTrue(pages.size() >= 9 && links > 30 && anchored > 5,
        pages.size() + " pages, " + links + " links, " + anchored + " to a heading");
    long lines = Files.readAllLines(root.resolve("README.md")).size();
    assertTrue(lines <= 250, "the README has " + lines + " lines");
  }

  /** The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped, spaces as hyphens. */
  private static List<String> headings(Path file) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : FENCE.matcher(Files.readString(file)).replaceAll("").split("\n")) {
      Matcher m = HEADING.matcher(line);
      if (m.matches()) {
        out.add(m.group(1).toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
      }
    }
    return out;
  }
}
