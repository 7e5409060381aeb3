package rzk.curator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceProvider;
import org.apache.curator.x.discovery.strategies.RoundRobinStrategy;
import org.junit.jupiter.api.Test;

public class DiscoveryTests extends CuratorTestBase {

    private ServiceInstance<String> instance(String name, String id, int port) throws Exception {
        return ServiceInstance.<String>builder().name(name).id(id).address("127.0.0.1").port(port)
                .payload("payload-" + id).build();
    }

    private ServiceDiscovery<String> discovery(CuratorFramework c, ServiceInstance<String> self) throws Exception {
        ServiceDiscoveryBuilder<String> b = ServiceDiscoveryBuilder.builder(String.class).client(c).basePath(path("services"));
        if (self != null) {
            b.thisInstance(self);
        }
        ServiceDiscovery<String> d = track(b.build());
        d.start();
        return d;
    }

    private static Set<String> ids(Collection<ServiceInstance<String>> xs) {
        return xs.stream().map(ServiceInstance::getId).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void serviceDiscovery() throws Exception {
        ServiceDiscovery<String> d1 = discovery(newClient(), instance("web", "w1", 8001));
        ServiceDiscovery<String> d2 = discovery(newClient(), instance("web", "w2", 8002));
        CuratorFramework c3 = newClient();
        discovery(c3, instance("db", "d1", 5432));
        ServiceDiscovery<String> observer = discovery(newClient(), null);

        assertEquals(Set.of("web", "db"), new HashSet<>(observer.queryForNames()));
        assertEquals(Set.of("w1", "w2"), ids(observer.queryForInstances("web")));
        ServiceInstance<String> w2 = observer.queryForInstance("web", "w2");
        assertNotNull(w2);
        assertEquals(8002, w2.getPort());
        assertEquals("127.0.0.1", w2.getAddress());
        assertEquals("payload-w2", w2.getPayload());
        // Instances are ephemeral nodes of their registrant's session.
        assertEquals(sessionId(c3), admin.checkExists().forPath(path("services/db/d1")).getEphemeralOwner());

        ServiceCache<String> cache = track(observer.serviceCacheBuilder().name("web").build());
        cache.start();
        await("cache sees both web instances", () -> cache.getInstances().size() == 2);

        ServiceProvider<String> provider = track(observer.serviceProviderBuilder().serviceName("web")
                .providerStrategy(new RoundRobinStrategy<>()).build());
        provider.start();
        Set<String> served = new TreeSet<>();
        for (int i = 0; i < 4; i++) {
            served.add(provider.getInstance().getId());
        }
        assertEquals(Set.of("w1", "w2"), served, "round robin over both");

        // Update and unregister are seen by the cache.
        ServiceInstance<String> w1b = ServiceInstance.<String>builder().name("web").id("w1").address("127.0.0.1")
                .port(9001).payload("updated").build();
        d1.updateService(w1b);
        await("cache sees the update", () -> cache.getInstances().stream()
                .anyMatch(x -> x.getId().equals("w1") && x.getPort() == 9001 && "updated".equals(x.getPayload())));
        d2.unregisterService(instance("web", "w2", 8002));
        await("cache sees the unregistration", () -> ids(cache.getInstances()).equals(Set.of("w1")));
        assertNull(observer.queryForInstance("web", "w2"));

        // Closing a discovery (its session ends) removes its instance.
        d1.close();
        await("cache empty after close", () -> cache.getInstances().isEmpty());
        assertEquals(List.of(), List.copyOf(observer.queryForInstances("web")));
        assertEquals(Set.of("d1"), ids(observer.queryForInstances("db")));
    }
}
