// SPDX-License-Identifier: Apache-2.0
// One Kinesis CBOR call with the JDK's own HTTP client, as a Java application reaches Freshet's
// TLS port: JSSE trusting the certificate through -Djavax.net.ssl.trustStore, HTTP/2 by ALPN.
// Run as a single-file program (java CborCall.java ENDPOINT OPERATION HEX_BODY); prints the
// status, the HTTP version, the content type and the body in hex, one per line.

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HexFormat;

public class CborCall {
    public static void main(String[] args) throws Exception {
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(args[0]))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-amz-cbor-1.1")
                .header("X-Amz-Target", "Kinesis_20131202." + args[1])
                .POST(HttpRequest.BodyPublishers.ofByteArray(HexFormat.of().parseHex(args[2])))
                .build();
        HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
        System.out.println(response.statusCode());
        System.out.println(response.version());
        System.out.println(response.headers().firstValue("content-type").orElse(""));
        System.out.println(HexFormat.of().formatHex(response.body()));
    }
}
