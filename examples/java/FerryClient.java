import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A JDK-only client for the Ferry companion (java.net.http, Java 11+; records need 16+), in the
 * OpenAI chat completions dialect. No library: JSON is written and read by the small
 * {@link Json} below.
 *
 * <p>Calls go to {@code /v1/chat/completions}, or to seed 004's pass-through
 * {@code /proxy/{pool}/v1/chat/completions} (the provider's own API, still under the project's
 * key, quotas, scrubbing and audit) when built with {@link #viaProxy(String)}.
 *
 * <p>Like seed 004's WebClient caller ({@code Retry.backoff(3, 1s).maxBackoff(10s)}), a 429 or a
 * 5xx, or a connection that fails before any answer, is retried with exponential backoff and
 * jitter, at most {@code maxAttempts} attempts in all. A {@code retry-after} header (seconds or an
 * HTTP date; Ferry sends it on its own 429s and passes the provider's through) is honoured:
 * the wait is never shorter; one longer than {@code maxRetryAfter} is not waited out, the error
 * goes to the caller instead. A stream is retried only before its first event: after that a
 * retry could repeat text the caller has already shown.
 */
public final class FerryClient {
  public record Message(String role, String content) {}

  /** A non-2xx answer (after retries), or an error event inside a stream. */
  public static final class FerryException extends IOException {
    private static final long serialVersionUID = 1L;
    public final int status;
    public final String body;

    FerryException(int status, String message, String body) {
      super(status > 0 ? "HTTP " + status + ": " + message : message);
      this.status = status;
      this.body = body;
    }
  }

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
  private final String baseUrl;
  private final String apiKey;
  private String chatPath = "/v1/chat/completions";
  private int maxAttempts = 4;
  private Duration baseDelay = Duration.ofSeconds(1);
  private Duration maxDelay = Duration.ofSeconds(10);
  private Duration maxRetryAfter = Duration.ofSeconds(60);
  private Duration timeout = Duration.ofSeconds(120);
  private Consumer<String> log = message -> {};

  public FerryClient(String baseUrl, String apiKey) {
    if (baseUrl == null || baseUrl.isBlank()) throw new IllegalArgumentException("no base URL (FERRY_BASE_URL)");
    if (apiKey == null || apiKey.isBlank()) throw new IllegalArgumentException("no project key (FERRY_API_KEY)");
    this.baseUrl = baseUrl.replaceAll("/+$", "");
    this.apiKey = apiKey;
  }

  /** Base URL and key from FERRY_BASE_URL and FERRY_API_KEY. */
  public static FerryClient fromEnv() {
    return new FerryClient(System.getenv("FERRY_BASE_URL"), System.getenv("FERRY_API_KEY"));
  }

  /** Uses {@code /proxy/{pool}/v1/chat/completions} (seed 004's contract) instead of {@code /v1/...}. */
  public FerryClient viaProxy(String pool) {
    chatPath = "/proxy/" + pool + "/v1/chat/completions";
    return this;
  }

  public FerryClient retries(int maxAttempts, Duration baseDelay, Duration maxDelay, Duration maxRetryAfter) {
    if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be at least 1");
    this.maxAttempts = maxAttempts;
    this.baseDelay = baseDelay;
    this.maxDelay = maxDelay;
    this.maxRetryAfter = maxRetryAfter;
    return this;
  }

  /** Longest wait for the answer's headers, per attempt. */
  public FerryClient timeout(Duration timeout) {
    this.timeout = timeout;
    return this;
  }

  /** Where retry notices go (default: nowhere). */
  public FerryClient log(Consumer<String> log) {
    this.log = log;
    return this;
  }

  /** One answer, whole. */
  public String chat(String model, List<Message> messages) throws IOException, InterruptedException {
    HttpResponse<String> res = send(request(model, messages, false), HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() / 100 != 2) throw failure(res.statusCode(), res.body());
    Object choices = Json.get(Json.parse(res.body()), "choices");
    Object content = choices instanceof List<?> list && !list.isEmpty() ? Json.get(Json.get(list.get(0), "message"), "content") : null;
    return content instanceof String text ? text : "";
  }

  /** One answer, streamed: {@code onDelta} gets each piece of text as it arrives; returns the whole. */
  public String stream(String model, List<Message> messages, Consumer<String> onDelta) throws IOException, InterruptedException {
    HttpResponse<Stream<String>> res = send(request(model, messages, true), HttpResponse.BodyHandlers.ofLines());
    try (Stream<String> lines = res.body()) {
      if (res.statusCode() / 100 != 2) throw failure(res.statusCode(), String.join("\n", (Iterable<String>) lines::iterator));
      StringBuilder text = new StringBuilder();
      StringBuilder data = new StringBuilder();
      Iterator<String> it = lines.iterator();
      // Server-sent events (https://html.spec.whatwg.org/#event-stream-interpretation): data lines
      // gather until a blank line ends the event; ofLines() already splits on \n, \r\n and \r.
      while (it.hasNext()) {
        String line = it.next();
        if (line.isEmpty()) {
          if (data.length() > 0 && onEvent(data.toString(), text, onDelta)) return text.toString();
          data.setLength(0);
        } else if (line.startsWith("data:")) {
          if (data.length() > 0) data.append('\n');
          data.append(line, line.startsWith("data: ") ? 6 : 5, line.length());
        }
        // "event:", "id:", "retry:" and ": comment" lines carry nothing this dialect needs.
      }
      if (data.length() > 0 && onEvent(data.toString(), text, onDelta)) return text.toString();
      throw new FerryException(0, "stream ended before [DONE]", text.toString());
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** Handles one event's data; true at {@code [DONE]}. */
  private static boolean onEvent(String data, StringBuilder text, Consumer<String> onDelta) throws FerryException {
    if (data.equals("[DONE]")) return true;
    Object event = Json.parse(data);
    // A stream that breaks upstream ends with an OpenAI-shaped error event (docs/edge.md).
    if (Json.get(event, "error") != null) throw new FerryException(0, "stream failed: " + errorMessage(event, data), data);
    if (Json.get(event, "choices") instanceof List<?> choices) {
      for (Object choice : choices) {
        if (Json.get(Json.get(choice, "delta"), "content") instanceof String delta && !delta.isEmpty()) {
          text.append(delta);
          onDelta.accept(delta);
        }
      }
    }
    return false;
  }

  private HttpRequest request(String model, List<Message> messages, boolean stream) {
    List<Object> list = new ArrayList<>();
    for (Message m : messages) {
      Map<String, Object> message = new LinkedHashMap<>();
      message.put("role", m.role());
      message.put("content", m.content());
      list.add(message);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("model", model);
    body.put("messages", list);
    body.put("stream", stream);
    return HttpRequest.newBuilder(URI.create(baseUrl + chatPath))
        .timeout(timeout)
        .header("authorization", "Bearer " + apiKey)
        .header("content-type", "application/json")
        .header("accept", stream ? "text/event-stream" : "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(Json.write(body)))
        .build();
  }

  /** Sends with retries; returns the first answer that is not retried (any status). */
  private <T> HttpResponse<T> send(HttpRequest request, BodyHandler<T> handler) throws IOException, InterruptedException {
    for (int attempt = 1; ; attempt++) {
      HttpResponse<T> res;
      try {
        res = http.send(request, handler);
      } catch (IOException e) {
        if (attempt >= maxAttempts) throw e;
        long waitMs = backoffMs(attempt);
        log.accept("ferry: attempt " + attempt + " failed (" + e + "), retrying in " + waitMs + " ms");
        Thread.sleep(waitMs);
        continue;
      }
      int status = res.statusCode();
      if ((status != 429 && status < 500) || attempt >= maxAttempts) return res;
      Optional<Duration> retryAfter = res.headers().firstValue("retry-after").flatMap(FerryClient::parseRetryAfter);
      if (retryAfter.isPresent() && retryAfter.get().compareTo(maxRetryAfter) > 0) return res;
      // The server's retry-after is a floor; a little jitter on top keeps callers that were
      // refused together from coming back together.
      long waitMs = retryAfter.isPresent() ? retryAfter.get().toMillis() + jitterMs(250) : backoffMs(attempt);
      discard(res);
      log.accept("ferry: attempt " + attempt + " got " + status + retryAfter.map(d -> " (retry-after " + d.toSeconds() + " s)").orElse("")
          + ", retrying in " + waitMs + " ms");
      Thread.sleep(waitMs);
    }
  }

  /** baseDelay · 2^(attempt−1), capped at maxDelay, ±50 % (Reactor's Retry.backoff default jitter). */
  private long backoffMs(int attempt) {
    long exp = baseDelay.toMillis() << Math.min(attempt - 1, 20);
    long capped = Math.min(exp, maxDelay.toMillis());
    return Math.max(0, capped / 2 + jitterMs(capped));
  }

  private static long jitterMs(long bound) {
    return bound <= 0 ? 0 : ThreadLocalRandom.current().nextLong(bound + 1);
  }

  static Optional<Duration> parseRetryAfter(String value) {
    String v = value.trim();
    try {
      if (v.matches("\\d+(\\.\\d+)?")) return Optional.of(Duration.ofMillis((long) Math.ceil(Double.parseDouble(v) * 1000)));
      Duration until = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME));
      return Optional.of(until.isNegative() ? Duration.ZERO : until);
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Frees the connection of an answer that is not read. */
  private static void discard(HttpResponse<?> res) {
    if (res.body() instanceof Stream<?> s) s.close();
  }

  private static FerryException failure(int status, String body) {
    String message;
    try {
      message = errorMessage(Json.parse(body), body);
    } catch (FerryException e) {
      message = body;
    }
    return new FerryException(status, message, body);
  }

  /** The message of any of Ferry's dialects' error shapes ({"error":{"message"}} for OpenAI). */
  private static String errorMessage(Object json, String raw) {
    Object error = Json.get(json, "error");
    Object message = error instanceof String ? error : Json.get(error, "message");
    return message instanceof String s ? s : raw;
  }

  /**
   * Just enough JSON (RFC 8259): objects become LinkedHashMap, arrays ArrayList, numbers
   * Long or Double, plus String, Boolean and null. Strings are read with every escape,
   * \\uXXXX surrogate pairs included, and written with quotes, backslashes and control
   * characters escaped (the body is sent as UTF-8, so other characters go as they are).
   */
  static final class Json {
    private final String s;
    private int i;

    private Json(String s) {
      this.s = s;
    }

    static Object get(Object node, String key) {
      return node instanceof Map<?, ?> map ? map.get(key) : null;
    }

    static Object parse(String text) throws FerryException {
      Json p = new Json(text);
      try {
        Object value = p.value();
        p.space();
        if (p.i != text.length()) throw p.error("trailing characters");
        return value;
      } catch (IndexOutOfBoundsException e) {
        throw p.error("unexpected end");
      }
    }

    static String write(Object value) {
      StringBuilder out = new StringBuilder();
      write(value, out);
      return out.toString();
    }

    private static void write(Object value, StringBuilder out) {
      if (value == null) {
        out.append("null");
      } else if (value instanceof String str) {
        out.append('"');
        for (int k = 0; k < str.length(); k++) {
          char c = str.charAt(k);
          switch (c) {
            case '"' -> out.append("\\\"");
            case '\\' -> out.append("\\\\");
            case '\n' -> out.append("\\n");
            case '\r' -> out.append("\\r");
            case '\t' -> out.append("\\t");
            case '\b' -> out.append("\\b");
            case '\f' -> out.append("\\f");
            default -> {
              if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
              else out.append(c);
            }
          }
        }
        out.append('"');
      } else if (value instanceof Map<?, ?> map) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
          if (!first) out.append(',');
          first = false;
          write(String.valueOf(e.getKey()), out);
          out.append(':');
          write(e.getValue(), out);
        }
        out.append('}');
      } else if (value instanceof List<?> list) {
        out.append('[');
        for (int k = 0; k < list.size(); k++) {
          if (k > 0) out.append(',');
          write(list.get(k), out);
        }
        out.append(']');
      } else if (value instanceof Boolean || value instanceof Integer || value instanceof Long) {
        out.append(value);
      } else if (value instanceof Number n && Double.isFinite(n.doubleValue())) {
        out.append(n.doubleValue());
      } else {
        throw new IllegalArgumentException("not JSON: " + value.getClass());
      }
    }

    private Object value() throws FerryException {
      space();
      char c = s.charAt(i);
      switch (c) {
        case '{': {
          i++;
          Map<String, Object> map = new LinkedHashMap<>();
          space();
          if (s.charAt(i) == '}') {
            i++;
            return map;
          }
          do {
            space();
            if (s.charAt(i) != '"') throw error("expected a key");
            String key = string();
            space();
            expect(':');
            map.put(key, value());
            space();
          } while (s.charAt(i++) == ',');
          if (s.charAt(i - 1) != '}') throw error("expected , or }");
          return map;
        }
        case '[': {
          i++;
          List<Object> list = new ArrayList<>();
          space();
          if (s.charAt(i) == ']') {
            i++;
            return list;
          }
          do {
            list.add(value());
            space();
          } while (s.charAt(i++) == ',');
          if (s.charAt(i - 1) != ']') throw error("expected , or ]");
          return list;
        }
        case '"':
          return string();
        case 't':
          return literal("true", Boolean.TRUE);
        case 'f':
          return literal("false", Boolean.FALSE);
        case 'n':
          return literal("null", null);
        default:
          return number();
      }
    }

    private String string() throws FerryException {
      expect('"');
      StringBuilder out = new StringBuilder();
      while (true) {
        char c = s.charAt(i++);
        if (c == '"') return out.toString();
        if (c < 0x20) throw error("control character in a string");
        if (c != '\\') {
          out.append(c);
          continue;
        }
        char e = s.charAt(i++);
        switch (e) {
          case '"', '\\', '/' -> out.append(e);
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'u' -> {
            // A surrogate pair arrives as two escapes; appending both UTF-16 units rebuilds it.
            String hex = s.substring(i, i + 4);
            if (!hex.matches("[0-9a-fA-F]{4}")) throw error("bad \\u escape");
            out.append((char) Integer.parseInt(hex, 16));
            i += 4;
          }
          default -> throw error("bad escape \\" + e);
        }
      }
    }

    private Object number() throws FerryException {
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
      String n = s.substring(start, i);
      if (!n.matches("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?")) throw error("bad value");
      if (n.matches("-?\\d{1,18}")) return Long.parseLong(n);
      return Double.parseDouble(n);
    }

    private Object literal(String word, Object value) throws FerryException {
      if (!s.startsWith(word, i)) throw error("bad value");
      i += word.length();
      return value;
    }

    private void expect(char c) throws FerryException {
      if (s.charAt(i++) != c) throw error("expected " + c);
    }

    private void space() {
      while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
    }

    private FerryException error(String what) {
      return new FerryException(0, "invalid JSON at " + i + ": " + what, s);
    }
  }
}
