#!/usr/bin/perl
# Writes the MMDB files the geoip tests use, with Debian's libmaxmind-db-writer-perl: no
# real MaxMind data is needed or shipped. Only documentation and loopback networks are used
# (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 127.0.0.0/8).
#
#   make_fixtures.pl OUTDIR            the test databases (see the list below)
#   make_fixtures.pl --bench N FILE    a City-shaped database of N IPv4 /24 and N/4 IPv6 /48
#                                      networks (benchmarks/geoip)
#   make_fixtures.pl --bench N FILE unique   the same, but every network has a record of its
#                                      own (as many distinct records as City has: check cost)
#
# Files:
#   city-v1.mmdb, city-v2.mmdb  City-shaped (IPv6 tree, IPv4 aliased); v2 moves 127.0.0.0/8
#                               and 192.0.2.0/24 from DE to FR (reload tests)
#   asn.mmdb                    ASN-shaped
#   anonymous.mmdb              Anonymous-IP-shaped (booleans)
#   types.mmdb                  custom, IPv4 tree: one record with every MMDB data type
#   country-renamed.mmdb        like city-v1, but `country` is called `land` (a replacement
#                               that no longer has the mapped paths)
#   truncated.mmdb              the first half of city-v1.mmdb (a broken replacement)
#   not-a-database.mmdb         text
use strict;
use warnings;

use MaxMind::DB::Writer::Tree;
use Math::BigInt;

my %types = (
    # City / Country
    city                  => 'map',
    continent             => 'map',
    country               => 'map',
    land                  => 'map',
    registered_country    => 'map',
    location              => 'map',
    postal                => 'map',
    traits                => 'map',
    names                 => 'map',
    subdivisions          => [ 'array', 'map' ],
    code                  => 'utf8_string',
    iso_code              => 'utf8_string',
    en                    => 'utf8_string',
    de                    => 'utf8_string',
    geoname_id            => 'uint32',
    latitude              => 'double',
    longitude             => 'double',
    accuracy_radius       => 'uint16',
    time_zone             => 'utf8_string',
    is_in_european_union  => 'boolean',
    is_anycast            => 'boolean',
    # ASN
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    # Anonymous IP
    is_anonymous       => 'boolean',
    is_anonymous_vpn   => 'boolean',
    is_hosting_provider => 'boolean',
    is_public_proxy    => 'boolean',
    is_tor_exit_node   => 'boolean',
    # custom: every data type
    a_string  => 'utf8_string',
    a_double  => 'double',
    a_float   => 'float',
    a_bytes   => 'bytes',
    a_uint16  => 'uint16',
    a_uint32  => 'uint32',
    a_int32   => 'int32',
    a_uint64  => 'uint64',
    big_uint64 => 'uint64',
    a_uint128 => 'uint128',
    small_uint128 => 'uint128',
    a_true    => 'boolean',
    a_false   => 'boolean',
    an_array  => [ 'array', 'utf8_string' ],
    a_map     => 'map',
    inner     => 'utf8_string',
    empty_string => 'utf8_string',
);

sub new_tree {
    my (%args) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version            => $args{ip_version} // 6,
        record_size           => 28,
        database_type         => $args{database_type},
        languages             => ['en'],
        description           => { en => "spoa-host geoip test fixture ($args{database_type})" },
        map_key_type_callback => sub { $types{ $_[0] } },
        # MaxMind's databases alias ::ffff:0:0/96 to the IPv4 tree; so do these.
        alias_ipv6_to_ipv4       => ($args{ip_version} // 6) == 6 ? 1 : 0,
        # The tests use loopback and documentation networks, which the writer would
        # otherwise drop as reserved.
        remove_reserved_networks => 0,
    );
}

sub write_tree {
    my ($tree, $file) = @_;
    open my $fh, '>:raw', $file or die "$file: $!";
    $tree->write_tree($fh);
    close $fh or die "$file: $!";
}

sub country {
    my ($iso, $en, $de, $eu) = @_;
    return {
        geoname_id           => $iso eq 'DE' ? 2921044 : $iso eq 'FR' ? 3017382 : 1,
        iso_code             => $iso,
        names                => { en => $en, de => $de },
        is_in_european_union => $eu ? 1 : 0,
    };
}

my %countries = (
    DE => country('DE', 'Germany',       'Deutschland',         1),
    FR => country('FR', 'France',        'Frankreich',          1),
    US => country('US', 'United States', 'Vereinigte Staaten',  0),
    JP => country('JP', 'Japan',         'Japan',               0),
);

sub city_record {
    my ($iso, $city) = @_;
    my $record = {
        continent => { code => ($iso eq 'US' ? 'NA' : $iso eq 'JP' ? 'AS' : 'EU') },
        country   => $countries{$iso},
        registered_country => $countries{$iso},
    };
    if ($city) {
        $record->{city}     = { geoname_id => 2950159, names => { en => $city, de => $city } };
        $record->{location} = { latitude => 52.5244, longitude => 13.4105,
                                accuracy_radius => 200, time_zone => 'Europe/Berlin' };
        $record->{postal}   = { code => '10178' };
        $record->{subdivisions} = [
            { iso_code => 'BE', names => { en => 'Land Berlin' } },
            { iso_code => 'MI', names => { en => 'Mitte' } },
        ];
        $record->{traits} = { is_anycast => 0 };
    }
    return $record;
}

sub city_tree {
    my ($version) = @_;
    my $moved = $version == 1 ? 'DE' : 'FR';
    my $tree = new_tree(database_type => 'SpoaTest-City');
    $tree->insert_network('127.0.0.0/8',     city_record($moved));
    $tree->insert_network('192.0.2.0/24',    city_record($moved, 'Berlin'));
    $tree->insert_network('198.51.100.0/24', city_record('US'));
    # No `city` in this one: the city variables fall back to their defaults.
    $tree->insert_network('203.0.113.0/25',  city_record('JP'));
    $tree->insert_network('2001:db8::/32',   city_record('JP', 'Tokyo'));
    return $tree;
}

sub make_all {
    my ($dir) = @_;
    write_tree(city_tree(1), "$dir/city-v1.mmdb");
    write_tree(city_tree(2), "$dir/city-v2.mmdb");

    my $renamed = new_tree(database_type => 'SpoaTest-City');
    my $record = city_record('DE', 'Berlin');
    $record->{land} = delete $record->{country};
    $renamed->insert_network('127.0.0.0/8',  $record);
    $renamed->insert_network('192.0.2.0/24', $record);
    write_tree($renamed, "$dir/country-renamed.mmdb");

    my $asn = new_tree(database_type => 'SpoaTest-ASN');
    $asn->insert_network('127.0.0.0/8', { autonomous_system_number => 64496,
                                          autonomous_system_organization => 'Loopback Example' });
    $asn->insert_network('192.0.2.0/24', { autonomous_system_number => 64500,
                                           autonomous_system_organization => 'Documentation AS' });
    $asn->insert_network('2001:db8::/48', { autonomous_system_number => 4200000000,
                                            autonomous_system_organization => 'Example v6' });
    write_tree($asn, "$dir/asn.mmdb");

    my $anon = new_tree(database_type => 'SpoaTest-Anonymous-IP');
    $anon->insert_network('198.51.100.0/28', { is_anonymous => 1, is_anonymous_vpn => 1,
                                               is_public_proxy => 0 });
    $anon->insert_network('198.51.100.16/28', { is_anonymous => 1, is_tor_exit_node => 1 });
    write_tree($anon, "$dir/anonymous.mmdb");

    my $custom = new_tree(database_type => 'SpoaTest-Types', ip_version => 4);
    $custom->insert_network('192.0.2.0/24', {
        a_string      => "h\x{e9}llo",
        empty_string  => '',
        a_double      => 52.5244,
        a_float       => 1.5,
        a_bytes       => "\x00\x01\xfe\xff",
        a_uint16      => 65535,
        a_uint32      => 4294967295,
        a_int32       => -2147483648,
        a_uint64      => 1234567890123,
        big_uint64    => Math::BigInt->new('18446744073709551615'),
        a_uint128     => Math::BigInt->new('340282366920938463463374607431768211455'),
        small_uint128 => 42,
        a_true        => 1,
        a_false       => 0,
        an_array      => [ 'zero', 'one', 'two' ],
        a_map         => { inner => 'value' },
    });
    write_tree($custom, "$dir/types.mmdb");

    open my $in, '<:raw', "$dir/city-v1.mmdb" or die $!;
    local $/;
    my $bytes = <$in>;
    close $in;
    open my $out, '>:raw', "$dir/truncated.mmdb" or die $!;
    print {$out} substr($bytes, 0, int(length($bytes) / 2));
    close $out;

    open $out, '>', "$dir/not-a-database.mmdb" or die $!;
    print {$out} "this is not an MMDB file\n";
    close $out;
}

# A City-shaped database of N /24 networks spread over the IPv4 space (deterministic), for
# benchmarks/geoip. Records cycle through a few countries, as real data shares records.
sub make_bench {
    my ($count, $file, $unique) = @_;
    my $tree = new_tree(database_type => 'SpoaBench-City');
    my @iso = sort keys %countries;
    my %records = map { $_ => city_record($_, 'Town') } @iso;
    my $x = 12345;
    my %seen;
    my $n = 0;
    # Addresses inside the networks, for the benchmark to look up: FILE.addresses.
    open my $addresses, '>', "$file.addresses" or die "$file.addresses: $!";
    while ($n < $count) {
        $x = ($x * 1103515245 + 12345) % 2147483648;
        my $net = ($x >> 8) & 0xffffff;    # a /24 number
        next if $seen{$net}++;
        my $ip = join '.', ($net >> 16) & 255, ($net >> 8) & 255, $net & 255, 0;
        my $record = $records{ $iso[ $n % @iso ] };
        if ($unique) {
            $record = city_record($iso[ $n % @iso ], "Town $n");
            $record->{location}{accuracy_radius} = $n % 1000;
        }
        $tree->insert_network("$ip/24", $record);
        print {$addresses} join('.', ($net >> 16) & 255, ($net >> 8) & 255, $net & 255, 77), "\n"
            if $n % 10 == 0;
        ++$n;
    }
    # And a quarter as many IPv6 /48s in 2a00::/16.
    my %seen6;
    for (my $m = 0; $m < $count / 4;) {
        $x = ($x * 1103515245 + 12345) % 2147483648;
        my $net = ($x >> 4) & 0xffffffff;
        next if $seen6{$net}++;
        my $ip = sprintf('2a00:%x:%x::', ($net >> 16) & 0xffff, $net & 0xffff);
        $tree->insert_network("$ip/48", $records{ $iso[ $m % @iso ] });
        printf {$addresses} "2a00:%x:%x::77\n", ($net >> 16) & 0xffff, $net & 0xffff
            if $m % 10 == 0;
        ++$m;
    }
    close $addresses or die $!;
    write_tree($tree, $file);
}

if ((@ARGV == 3 || (@ARGV == 4 && $ARGV[3] eq 'unique')) && $ARGV[0] eq '--bench') {
    make_bench($ARGV[1], $ARGV[2], @ARGV == 4);
} elsif (@ARGV == 1) {
    make_all($ARGV[0]);
} else {
    die "usage: $0 OUTDIR | --bench N FILE\n";
}
