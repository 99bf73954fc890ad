// Prints dlib's own embeddings of 150x150 aligned chips as JSON, to check the ONNX conversion.
// Build (Debian 12): apt-get install libdlib-dev libjpeg-dev g++
//   g++ -O2 -std=c++17 face/scripts/dlib_reference_embeddings.cpp -o /tmp/dlib_ref \
//       -ldlib -lpthread -lpng -ljpeg -lblas -llapack
// Run: /tmp/dlib_ref MODEL.dat BASE_DIR REL_PATH... > face/scripts/dlib_reference_embeddings.json
// The network definition is the one of dlib's examples/dnn_face_recognition_ex.cpp.
#include <dlib/dnn.h>
#include <dlib/image_io.h>
#include <cstdio>
#include <iostream>
using namespace dlib;

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;
template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;
template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;
template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;
using anet_type = loss_metric<fc_no_bias<128, avg_pool_everything<alevel0<alevel1<alevel2<alevel3<
    alevel4<max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<150>>>>>>>>>>>>>;

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: dlib_ref MODEL.dat BASE_DIR REL_PATH...\n";
        return 2;
    }
    anet_type net;
    deserialize(argv[1]) >> net;
    std::string base = argv[2];
    std::printf("{\n  \"source\": \"dlib 19.24 (Debian libdlib-dev), dlib_face_recognition_resnet_model_v1.dat\",\n  \"embeddings\": [\n");
    for (int i = 3; i < argc; ++i) {
        matrix<rgb_pixel> img;
        load_image(img, base + "/" + argv[i]);
        if (img.nr() != 150 || img.nc() != 150) {
            std::cerr << argv[i] << ": not a 150x150 chip\n";
            return 1;
        }
        matrix<float, 0, 1> e = net(img);
        std::printf("    {\"image\": \"%s\", \"embedding\": [", argv[i]);
        for (long j = 0; j < e.size(); ++j) std::printf("%s%.8g", j ? ", " : "", e(j));
        std::printf("]}%s\n", i + 1 < argc ? "," : "");
    }
    std::printf("  ]\n}\n");
    return 0;
}
