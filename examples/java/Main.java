import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One plain and one streamed call through Ferry.
 *
 * <pre>
 * javac -d /tmp/ferry-java examples/java/*.java
 * FERRY_BASE_URL=http://127.0.0.1:8080 FERRY_API_KEY=fp-... java -cp /tmp/ferry-java Main [options] [prompt]
 * </pre>
 *
 * Options: {@code --base-url URL} and {@code --api-key KEY} (else FERRY_BASE_URL,
 * FERRY_API_KEY), {@code --model M} (default gpt-4o-mini), {@code --proxy POOL} (call
 * {@code /proxy/POOL/v1/chat/completions}, seed 004's pass-through, instead of {@code /v1/...}).
 * Prints {@code plain: <answer>} and {@code stream: <answer, as it arrives>}; retries go to stderr.
 */
public final class Main {
  public static void main(String[] args) throws Exception {
    // UTF-8 whatever the locale says, so answers print as sent.
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    String baseUrl = System.getenv("FERRY_BASE_URL");
    String apiKey = System.getenv("FERRY_API_KEY");
    String model = "gpt-4o-mini";
    String pool = null;
    String prompt = "Say hello.";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--base-url" -> baseUrl = args[++i];
        case "--api-key" -> apiKey = args[++i];
        case "--model" -> model = args[++i];
        case "--proxy" -> pool = args[++i];
        default -> prompt = args[i];
      }
    }
    FerryClient client = new FerryClient(baseUrl, apiKey).log(System.err::println);
    if (pool != null) client.viaProxy(pool);
    List<FerryClient.Message> messages = List.of(new FerryClient.Message("user", prompt));
    try {
      out.println("plain: " + client.chat(model, messages));
      out.print("stream: ");
      client.stream(model, messages, delta -> {
        out.print(delta);
        out.flush();
      });
      out.println();
    } catch (FerryClient.FerryException e) {
      System.err.println("ferry: " + e.getMessage());
      System.exit(1);
    }
  }
}
