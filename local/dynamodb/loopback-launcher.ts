import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Java source of a main class that starts DynamoDB Local as its own main does, with two changes
 * made to its Jetty server before it starts: the connector listens on 127.0.0.1 (DynamoDB Local's
 * `new Server(port)` listens on every interface, and no option or system property sets the
 * address), and the rule of `local-requests-only.ts` (Host and Origin) answers 403 to what a web
 * page could send; and it exits when the process that started it does (its stdin closes). Java runs it from source (`java Launcher.java`, Java 11+), so no compiled
 * class ships with the package; that needs the `jdk.compiler` module (see `javaCompilesSource`)
 * and costs about 1 s of compiling at each start.
 */
const source = String.raw`import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/** DynamoDB Local's own main, but its Jetty connector bound to 127.0.0.1 and web pages refused. */
public class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    exitWithParent();
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    // DynamoDB Local makes new Server(port), whose connector listens on every interface, and
    // has no option for the address: reach its Jetty server before it starts.
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    int port = -1;
    for (Connector connector : server.getConnectors()) {
      ServerConnector http = (ServerConnector) connector;
      http.setHost("127.0.0.1");
      port = http.getPort();
    }
    server.setHandler(new LocalRequestsOnly(server.getHandler(), port));
    proxy.start();
  }

  /**
   * The process that started us holds the other end of our stdin: when it ends, however it ends
   * (a crash, SIGKILL), the pipe closes and we go too, instead of listening on with ppid 1.
   */
  private static void exitWithParent() {
    Thread watch = new Thread(() -> {
      try {
        while (System.in.read() != -1) {}
      } catch (Exception closed) {
        // A broken pipe ends it the same way.
      }
      System.exit(0);
    }, "exit-with-parent");
    watch.setDaemon(true);
    watch.start();
  }
}

/** The rule of local/local-requests-only.ts, for Jetty. */
class LocalRequestsOnly extends Handler.Wrapper {
  private final List<String> ownHosts;

  LocalRequestsOnly(Handler next, int port) {
    super(next);
    ownHosts = List.of("127.0.0.1:" + port, "localhost:" + port);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    String host = request.getHeaders().get(HttpHeader.HOST);
    String origin = request.getHeaders().get(HttpHeader.ORIGIN);
    String reason = null;
    if (host == null || !ownHosts.contains(host.toLowerCase())) {
      reason = "Host '" + (host == null ? "" : host) + "' is not this local server ("
          + String.join(" or ", ownHosts) + "): refused, as DNS rebinding would send it";
    } else if (origin != null && ownHosts.stream().noneMatch(own -> origin.equalsIgnoreCase("http://" + own))) {
      reason = "Origin '" + origin + "' is a web page of another site: the local AWS takes no calls from browsers";
    }
    if (reason == null) return super.handle(request, response, callback);
    response.setStatus(403);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
    response.getHeaders().put(HttpHeader.CONNECTION, "close");
    response.write(true, StandardCharsets.UTF_8.encode(reason + "\n"), callback);
    return true;
  }
}
`;

/** Java's source launcher runs the first class of the file; the name only has to end in .java. */
const fileName = 'LoopbackDynamoDbLocal.java';

/**
 * Writes the launcher into `folder` (a private one: nobody else may swap the code Java runs);
 * answers its path, to pass to `java` in place of `-jar DynamoDBLocal.jar`.
 *
 * @example
 * const launcher = await writeLoopbackLauncher(privateFolder);
 * spawn('java', ['-cp', classPath, launcher, '-inMemory', '-port', '8000']);
 */
export async function writeLoopbackLauncher(folder: string): Promise<string> {
  const path = join(folder, fileName);
  await writeFile(path, source, { flag: 'wx', mode: 0o600 });
  return path;
}
